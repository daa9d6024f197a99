"""Parse EMSA THETIS-MRV "Publication of information" workbooks (EU MRV, Regulation
(EU) 2015/757) into per-ship report records, without Spark.

The workbooks are read exactly as EMSA publishes them: group-header rows sit above the
column header, so the header row is found by its content; column names differ slightly
between reporting periods, so every column is matched against a list of published
spellings. Each input ship row becomes one record: either usable (with the derived
annual distance and implied CO2 factor and two plausibility flags) or quarantined with
reasons of the form ``<column>: <problem>``. Rules and numbers: ``docs/EU_MRV.md``.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Tokens EMSA writes into numeric cells instead of a number (DOMAIN.md, EU MRV public data).
TOKENS = ("N/A", "Division by zero!", "Not Applicable")

# C_F range, t CO2 per t fuel, over all nine fuels of MEPC.364(79) Table 1 (diesel/gas oil
# 3.206, LFO 3.151, HFO 3.114, LPG propane 3.000, LPG butane 3.030, ethane 2.927,
# LNG 2.750, methanol 1.375, ethanol 1.913). Methanol is the low end: methanol-fuelled
# chemical tankers report in 2019 and 2020. Any blend of these fuels lies in the range.
CF_MIN = 1.375  # methanol
CF_MAX = 3.206  # diesel / gas oil

# EMSA publishes every figure rounded to 0.01; the true value lies within half a step.
HALF_STEP = 0.005

MIN_REPORTING_PERIOD = 2018  # first MRV monitoring period (Regulation (EU) 2015/757 Art. 9)
HEADER_SEARCH_ROWS = 30


@dataclass(frozen=True)
class Column:
    name: str  # column in Silver and in quarantine reasons
    headers: tuple[str, ...]  # published spellings, compared after _normalise
    kind: str = "text"  # text | number | date | imo | period
    required: bool = False  # a problem in a required column quarantines the row


COLUMNS: tuple[Column, ...] = (
    Column("imo", ("IMO Number",), "imo", True),
    Column("name", ("Name",)),
    Column("ship_type", ("Ship type",), "text", True),
    Column("reporting_period", ("Reporting Period",), "period", True),
    Column("technical_efficiency", ("Technical efficiency",)),
    Column("port_of_registry", ("Port of Registry",)),
    Column("home_port", ("Home Port",)),
    Column("ice_class", ("Ice Class",)),
    Column("doc_issue_date", ("DoC issue date",), "date"),
    Column("doc_expiry_date", ("DoC expiry date",), "date"),
    Column("verifier_name", ("Verifier Name",)),
    Column("verifier_country", ("Verifier Country",)),
    Column("fuel_t", ("Total fuel consumption [m tonnes]",), "number", True),
    Column("co2_t", ("Total CO₂ emissions [m tonnes]",), "number", True),
    Column(
        "co2_between_ms_ports_t",
        ("CO₂ emissions from all voyages between ports under a MS jurisdiction [m tonnes]",),
        "number",
    ),
    Column(
        "co2_departed_ms_ports_t",
        ("CO₂ emissions from all voyages which departed from ports under a MS jurisdiction [m tonnes]",),
        "number",
    ),
    Column(
        "co2_to_ms_ports_t", ("CO₂ emissions from all voyages to ports under a MS jurisdiction [m tonnes]",), "number"
    ),
    Column(
        "co2_at_berth_t",
        ("CO₂ emissions which occurred within ports under a MS jurisdiction at berth [m tonnes]",),
        "number",
    ),
    # 2018 and 2019 say "Annual Total time", 2020 "Annual Time". The later "(Total) time spent
    # at sea [hours]" column of the voluntary part is a different column and is not matched.
    Column(
        "time_at_sea_h", ("Annual Total time spent at sea [hours]", "Annual Time spent at sea [hours]"), "number", True
    ),
    Column("fuel_per_distance_kg_nm", ("Annual average Fuel consumption per distance [kg / n mile]",), "number", True),
    Column("co2_per_distance_kg_nm", ("Annual average CO₂ emissions per distance [kg CO₂ / n mile]",), "number", True),
)

# Reported per row, derived or flagged here.
DERIVED = ("distance_nm", "implied_cf", "cf_out_of_range", "co2_distance_mismatch", "time_at_sea_exceeds_year")
PROVENANCE = ("source_file", "source_row")
SILVER_FIELDS = (*(c.name for c in COLUMNS), *DERIVED, *PROVENANCE)


class WorkbookLayoutError(ValueError):
    """The workbook does not carry the columns of an EMSA MRV publication."""


@dataclass
class Report:
    """One input ship row: parsed values, derived values and, if quarantined, why."""

    values: dict[str, Any]
    problems: list[str]
    raw: dict[str, Any]  # published cell values of the required columns
    source_file: str
    source_row: int  # 1-based row number in the sheet
    file_period: int | None = None  # the period most rows of the file report

    @property
    def period(self) -> int | None:
        """Reporting period for partitioning: the row's own, else its file's."""
        return self.values.get("reporting_period") or self.file_period

    @property
    def quarantine(self) -> str | None:
        return self.problems[0] if self.problems else None

    def silver_record(self) -> dict[str, Any]:
        return {
            **{k: self.values.get(k) for k in SILVER_FIELDS[:-2]},
            "source_file": self.source_file,
            "source_row": self.source_row,
        }

    def quarantine_record(self) -> dict[str, Any]:
        column = self.problems[0].split(":", 1)[0]
        raw = self.raw.get(column)
        return {
            "reporting_period": self.period,
            "imo": self.values.get("imo") or _text(self.raw.get("imo")),
            "name": self.values.get("name"),
            "ship_type": self.values.get("ship_type"),
            "reason": self.problems[0],
            "reasons": list(self.problems),
            "column": column,
            "raw_value": None if raw is None else str(raw),
            "source_file": self.source_file,
            "source_row": self.source_row,
        }

    def dry_run_record(self) -> dict[str, Any]:
        v = self.values
        usable = not self.problems
        return {
            "imo": v.get("imo") or _text(self.raw.get("imo")),
            "reporting_period": v.get("reporting_period"),
            "ship_type": v.get("ship_type"),
            "fuel_t": v.get("fuel_t"),
            "co2_t": v.get("co2_t"),
            "distance_nm": v.get("distance_nm") if usable else None,
            "implied_cf": v.get("implied_cf") if usable else None,
            "quarantine": self.quarantine,
        }


def _normalise(header: Any) -> str:
    # NFKC folds the subscript in "CO₂" to "CO2", so either spelling matches.
    text = unicodedata.normalize("NFKC", str(header or ""))
    return " ".join(text.split()).casefold()


_HEADER_INDEX = {_normalise(h): c for c in COLUMNS for h in c.headers}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def imo_check_digit_ok(imo: str) -> bool:
    """IMO ship identification number: the 7th digit is the last digit of the sum of the
    first six digits weighted 7, 6, 5, 4, 3, 2 (IMO Resolution A.1117(30))."""
    return sum(int(d) * w for d, w in zip(imo[:6], range(7, 1, -1))) % 10 == int(imo[6])


def parse_number(value: Any) -> tuple[float | None, str | None]:
    """(value, None) for a usable non-negative number, else (None, problem)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "missing"
    if isinstance(value, bool):
        return None, "non-numeric"
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = value.strip()
        if text in TOKENS:
            return None, text
        try:
            number = float(text)
        except ValueError:
            return None, "non-numeric"
    if not math.isfinite(number):
        return None, "non-numeric"
    if number < 0:
        return None, "negative"
    return number, None


def _parse_imo(value: Any) -> tuple[str | None, str | None]:
    text = _text(value)
    if text is None:
        return None, "missing"
    if text in TOKENS:
        return None, text
    if not (len(text) == 7 and text.isdigit()):
        return None, "not a 7-digit number"
    if not imo_check_digit_ok(text):
        return None, "invalid check digit"
    return text, None


def _parse_period(value: Any) -> tuple[int | None, str | None]:
    number, problem = parse_number(value)
    if problem:
        return None, problem
    if not number.is_integer() or number < MIN_REPORTING_PERIOD:
        return None, "not a reporting year"
    return int(number), None


def _parse_date(value: Any) -> dt.date | None:
    # Informational only: an unreadable DoC date becomes null, it does not quarantine a row.
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if text is None:
        return None
    try:
        return dt.datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        return None


def find_header(rows: Sequence[Sequence[Any]]) -> tuple[int, dict[str, int]]:
    """Index of the column-header row among ``rows`` and each known column's position.

    The header is the first row in which every required column is named; the group
    headers above it ("Ship", "DoC", "Annual monitoring results", ...) never are.
    """
    best: set[str] = set()
    for index, row in enumerate(rows):
        positions: dict[str, int] = {}
        for position, cell in enumerate(row):
            column = _HEADER_INDEX.get(_normalise(cell))
            if column is not None:
                positions.setdefault(column.name, position)
        found = {c.name for c in COLUMNS if c.required and c.name in positions}
        if len(found) == sum(c.required for c in COLUMNS):
            return index, positions
        best = max(best, found, key=len)
    missing = sorted({c.name for c in COLUMNS if c.required} - best)
    raise WorkbookLayoutError(f"no header row naming the required columns; missing: {missing}")


def parse_row(cells: Sequence[Any], positions: dict[str, int]) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """Parsed values, problems in column order and raw cells of the required columns."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    raw: dict[str, Any] = {}
    for column in COLUMNS:
        position = positions.get(column.name)
        cell = cells[position] if position is not None and position < len(cells) else None
        if column.required:
            raw[column.name] = cell
        if column.kind == "imo":
            value, problem = _parse_imo(cell)
        elif column.kind == "period":
            value, problem = _parse_period(cell)
        elif column.kind == "number":
            value, problem = parse_number(cell)
            if not column.required and problem:
                value, problem = None, None  # e.g. N/A in a breakdown that does not apply
        elif column.kind == "date":
            value, problem = _parse_date(cell), None
        else:
            value = _text(cell)
            problem = "missing" if column.required and value is None else None
        values[column.name] = value
        if problem:
            problems.append(f"{column.name}: {problem}")
    return values, problems, raw


def derive(values: dict[str, Any]) -> list[str]:
    """Add distance, implied C_F and the two flags to ``values``; problems that make the
    derivation impossible (a zero divisor) are returned."""
    fuel, co2 = values["fuel_t"], values["co2_t"]
    fuel_pd, co2_pd = values["fuel_per_distance_kg_nm"], values["co2_per_distance_kg_nm"]
    problems = []
    if fuel == 0:
        problems.append("fuel_t: zero, implied CO2 factor undefined")
    if fuel_pd == 0:
        problems.append("fuel_per_distance_kg_nm: zero, distance undefined")
    if problems:
        return problems
    # Distance is not published: total fuel (t) x 1000 / fuel per distance (kg/n mile).
    distance = fuel * 1000.0 / fuel_pd
    values["distance_nm"] = distance
    values["implied_cf"] = co2 / fuel
    values["cf_out_of_range"] = cf_out_of_range(fuel, co2)
    values["co2_distance_mismatch"] = co2_distance_mismatch(fuel, co2, fuel_pd, co2_pd)
    values["time_at_sea_exceeds_year"] = values["time_at_sea_h"] > hours_in_year(values["reporting_period"])
    return []


def hours_in_year(year: int) -> int:
    """The reporting period is a calendar year (Regulation (EU) 2015/757 Art. 3(m))."""
    return 24 * (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days


def cf_out_of_range(fuel: float, co2: float) -> bool:
    """True when no values within publication rounding of the published totals give a
    CO2/fuel ratio inside [CF_MIN, CF_MAX] (MEPC.364(79) C_F range)."""
    lowest = (co2 - HALF_STEP) / (fuel + HALF_STEP)
    highest = (co2 + HALF_STEP) / (fuel - HALF_STEP) if fuel > HALF_STEP else math.inf
    return lowest > CF_MAX or highest < CF_MIN


def co2_distance_mismatch(fuel: float, co2: float, fuel_pd: float, co2_pd: float) -> bool:
    """True when derived distance x CO2 per distance / 1000 cannot equal total CO2.

    The tolerance is the publication rounding: fuel, CO2 and both per-distance figures
    are each within 0.005 of the true value, which bounds the recomputed CO2.
    """
    lowest = (fuel - HALF_STEP) * (co2_pd - HALF_STEP) / (fuel_pd + HALF_STEP)
    highest = (fuel + HALF_STEP) * (co2_pd + HALF_STEP) / (fuel_pd - HALF_STEP) if fuel_pd > HALF_STEP else math.inf
    return co2 + HALF_STEP < lowest or co2 - HALF_STEP > highest


def _comparable(report: Report) -> tuple:
    return tuple(report.values.get(c.name) for c in COLUMNS)


def resolve_duplicates(reports: Sequence[Report]) -> None:
    """One row per IMO number and reporting period.

    Identical rows are the same report published twice: the first is kept, later copies
    are quarantined. Rows that differ cannot be told apart from the data alone (partial
    reports by two companies after a change of company, Regulation (EU) 2015/757
    Art. 11(2), or a correction): summing or picking one would each be wrong in one of
    those cases, so all of them are quarantined.
    """
    groups: dict[tuple[str, int], list[Report]] = defaultdict(list)
    for report in reports:
        imo, period = report.values.get("imo"), report.values.get("reporting_period")
        if imo is not None and period is not None:
            groups[(imo, period)].append(report)
    for group in groups.values():
        if len(group) < 2:
            continue
        if len({_comparable(r) for r in group}) == 1:
            for copy in group[1:]:
                copy.problems.append(f"imo: exact duplicate of {group[0].source_file} row {group[0].source_row}")
        else:
            rows = ", ".join(str(r.source_row) for r in group)
            for report in group:
                report.problems.append(f"imo: conflicting duplicate rows in reporting period (rows {rows})")


def parse_rows(rows: Iterable[Sequence[Any]], source_file: str, first_row: int = 1) -> list[Report]:
    """Reports from the rows of one sheet (header search included); rows with no cell
    at all are skipped (trailing formatting rows)."""
    iterator: Iterator[Sequence[Any]] = iter(rows)
    head = []
    for row in iterator:
        head.append(tuple(row))
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    header_index, positions = find_header(head)
    reports = []
    body = [*head[header_index + 1 :], *iterator]
    for offset, cells in enumerate(body):
        if all(_text(c) is None for c in cells):
            continue
        values, problems, raw = parse_row(cells, positions)
        reports.append(Report(values, problems, raw, source_file, first_row + header_index + 1 + offset))
    periods = Counter(r.values["reporting_period"] for r in reports if r.values["reporting_period"])
    if periods:
        file_period = periods.most_common(1)[0][0]
        for report in reports:
            report.file_period = file_period
    return reports


def finish(reports: list[Report]) -> list[Report]:
    """Duplicates and derivations over a whole batch of reports (one or more files)."""
    resolve_duplicates(reports)
    for report in reports:
        for name in DERIVED:
            report.values.setdefault(name, None)
        if not report.problems:
            report.problems.extend(derive(report.values))
    return reports


def read_workbook(path: str | Path) -> list[Report]:
    """Reports of the first sheet of ``path`` that carries an MRV column header."""
    from openpyxl import load_workbook

    path = Path(path)
    with warnings.catch_warnings():
        # EMSA's files carry no default cell style; openpyxl warns and applies its own.
        warnings.filterwarnings("ignore", message="Workbook contains no default style")
        workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        errors = []
        for sheet in workbook.worksheets:
            # The published sheets declare a dimension of A1:A1; without a reset the
            # read-only reader stops after the first cell.
            sheet.reset_dimensions()
            try:
                return parse_rows(sheet.iter_rows(values_only=True), path.name)
            except WorkbookLayoutError as error:
                errors.append(f"sheet {sheet.title!r}: {error}")
        raise WorkbookLayoutError(f"{path.name}: " + "; ".join(errors))
    finally:
        workbook.close()


def read_workbooks(paths: Sequence[str | Path]) -> list[Report]:
    reports: list[Report] = []
    for path in paths:
        reports.extend(read_workbook(path))
    return finish(reports)


def quarantine_counts(reports: Iterable[Report]) -> Counter:
    """Quarantined rows per (reporting period, reason)."""
    return Counter((r.period, r.quarantine) for r in reports if r.problems)
