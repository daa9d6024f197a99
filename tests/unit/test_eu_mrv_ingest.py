"""EU MRV ingest: the parser on EMSA's real workbooks, checked against an independent
computation on the flat CSV exports beside them, plus a Spark idempotency test."""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter

import pytest

from maritime_jobs.eu_mrv_ingest import __main__ as eu_mrv_ingest
from maritime_jobs.eu_mrv_ingest import parse as eu_mrv_parse
from maritimeiq import catalog
from tests.conftest import SHARED_DATA

MRV_DIR = SHARED_DATA / "eu-mrv-2018-2020"
YEARS = (2018, 2019, 2020)
WORKBOOKS = {
    2018: "2018-v268-06102022-EU_MRV_Publication_of_information.xlsx",
    2019: "2019-v211-07102022-EU_MRV_Publication_of_information.xlsx",
    2020: "2020-v181-01122022-EU_MRV_Publication_of_information.xlsx",
}

# Pinned from the published files (v268, v211, v181); the CSV-based tests recompute them.
INPUT_ROWS = {2018: 12256, 2019: 12395, 2020: 12044}
SILVER_ROWS = {2018: 11616, 2019: 12056, 2020: 11662}
DIVISION_BY_ZERO = "fuel_per_distance_kg_nm: Division by zero!"
QUARANTINE = {(2018, DIVISION_BY_ZERO): 640, (2019, DIVISION_BY_ZERO): 339, (2020, DIVISION_BY_ZERO): 382}
CF_OUT_OF_RANGE = {2018: 16, 2019: 36, 2020: 10}
TIME_AT_SEA_EXCEEDS_YEAR = {2018: 11, 2019: 9}  # up to 603,401,037 h (IMO 9272931, 2019)

# Independent of the module under test: the flat CSVs' own header names and the rules
# written out again (MEPC.364(79) C_F: methanol 1.375 ... diesel/gas oil 3.206).
FLAT_COLUMNS = {
    "imo": "IMO Number",
    "period": "Reporting Period",
    "fuel": "Total fuel consumption [m tonnes]",
    "co2": "Total CO₂ emissions [m tonnes]",
    "fuel_pd": "Annual average Fuel consumption per distance [kg / n mile]",
    "co2_pd": "Annual average CO₂ emissions per distance [kg CO₂ / n mile]",
}
FLAT_TIME_AT_SEA = ("Annual Total time spent at sea [hours]", "Annual Time spent at sea [hours]")
REQUIRED_ORDER = ("imo", "period", "fuel", "co2", "time", "fuel_pd", "co2_pd")
SILVER_NAME = {
    "imo": "imo",
    "period": "reporting_period",
    "fuel": "fuel_t",
    "co2": "co2_t",
    "time": "time_at_sea_h",
    "fuel_pd": "fuel_per_distance_kg_nm",
    "co2_pd": "co2_per_distance_kg_nm",
}

DRY_RUN_KEYS = {"imo", "reporting_period", "ship_type", "fuel_t", "co2_t", "distance_nm", "implied_cf", "quarantine"}

needs_data = pytest.mark.skipif(
    not all((MRV_DIR / f).is_file() for f in WORKBOOKS.values()), reason=f"EU MRV workbooks not found under {MRV_DIR}"
)


def _flat(year: int) -> list[dict[str, str]]:
    # The Verifier Address cells hold quoted line breaks: only a real CSV parser reads them.
    with open(MRV_DIR / f"mrv_{year}_flat.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _expected(row: dict[str, str], year: int) -> dict:
    """What the flat CSV row should become, computed without the module under test."""
    time_header = next(h for h in FLAT_TIME_AT_SEA if h in row)
    raw = {key: row[header] for key, header in FLAT_COLUMNS.items()} | {"time": row[time_header]}
    numbers, problems = {}, []
    for key in REQUIRED_ORDER:
        text = raw[key].strip()
        if key == "imo":
            if text == "":
                problem = "missing"
            elif not (len(text) == 7 and text.isdigit()):
                problem = "not a 7-digit number"
            else:  # IMO check digit: weights 7..2 over the first six digits
                weighted = sum(int(d) * w for d, w in zip(text, (7, 6, 5, 4, 3, 2)))
                problem = None if weighted % 10 == int(text[6]) else "invalid check digit"
        elif text == "":
            problem = "missing"
        elif text in ("N/A", "Division by zero!", "Not Applicable"):
            problem = text
        else:
            try:
                numbers[key] = float(text)
                problem = "negative" if numbers[key] < 0 else None
            except ValueError:
                problem = "non-numeric"
        if problem:
            problems.append(f"{SILVER_NAME[key]}: {problem}")
    if problems:
        return {"quarantine": problems[0]}
    fuel, co2, fuel_pd, co2_pd = (numbers[k] for k in ("fuel", "co2", "fuel_pd", "co2_pd"))
    if fuel == 0:
        return {"quarantine": "fuel_t: zero, implied CO2 factor undefined"}
    if fuel_pd == 0:
        return {"quarantine": "fuel_per_distance_kg_nm: zero, distance undefined"}
    h = 0.005  # values are published to two decimals
    cf_low, cf_high = (co2 - h) / (fuel + h), (co2 + h) / (fuel - h) if fuel > h else math.inf
    distance = fuel * 1000 / fuel_pd
    co2_low = (fuel - h) * (co2_pd - h) / (fuel_pd + h)
    co2_high = (fuel + h) * (co2_pd + h) / (fuel_pd - h)
    return {
        "quarantine": None,
        "distance_nm": distance,
        "implied_cf": co2 / fuel,
        "cf_out_of_range": cf_low > 3.206 or cf_high < 1.375,
        "co2_distance_mismatch": not (co2_low - h <= co2 <= co2_high + h),
        "time_at_sea_exceeds_year": numbers["time"] > (8784 if year % 4 == 0 else 8760),
        "check_relative_error": abs(distance * co2_pd / 1000 - co2) / co2 if co2 else 0.0,
    }


@pytest.fixture(scope="module")
def parsed():
    """The three workbooks, parsed once for the module (openpyxl takes seconds per file)."""
    reports = eu_mrv_parse.read_workbooks([MRV_DIR / WORKBOOKS[y] for y in YEARS])
    return {(r.period, r.values["imo"]): r for r in reports}, reports


@pytest.fixture(scope="module")
def flat():
    return {year: _flat(year) for year in YEARS}


@needs_data
def test_one_report_per_input_row_and_ship(parsed, flat):
    by_key, reports = parsed
    assert Counter(r.period for r in reports) == INPUT_ROWS
    assert {y: len(rows) for y, rows in flat.items()} == INPUT_ROWS
    assert len(by_key) == len(reports), "one row per IMO number and reporting period"
    assert Counter(r.period for r in reports if not r.problems) == SILVER_ROWS


@needs_data
def test_2020_headers_differ_and_header_row_is_found_by_content(flat):
    assert "Annual Time spent at sea [hours]" in flat[2020][0]
    assert "Annual Total time spent at sea [hours]" in flat[2018][0]
    from openpyxl import load_workbook

    with pytest.warns(UserWarning, match="no default style"):  # as EMSA publishes it
        workbook = load_workbook(MRV_DIR / WORKBOOKS[2020], read_only=True)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        head = [row for _, row in zip(range(10), sheet.iter_rows(values_only=True))]
    finally:
        workbook.close()
    index, positions = eu_mrv_parse.find_header(head)
    assert index == 2 and head[0][0] == "Ship"  # two group-header rows above the header
    assert head[index][positions["time_at_sea_h"]] == "Annual Time spent at sea [hours]"


@needs_data
@pytest.mark.parametrize("year", YEARS)
def test_every_row_matches_independent_computation(parsed, flat, year):
    _, reports = parsed
    in_sheet_order = [r for r in reports if r.period == year]
    assert len(in_sheet_order) == len(flat[year])
    checked = 0
    for row, report in zip(flat[year], in_sheet_order, strict=True):
        expected = _expected(row, year)
        assert report.quarantine == expected["quarantine"], row["IMO Number"]
        if expected["quarantine"] is not None:
            continue
        assert report.values["imo"] == row["IMO Number"]
        values = report.values
        assert math.isclose(values["distance_nm"], expected["distance_nm"], rel_tol=1e-12)
        assert math.isclose(values["implied_cf"], expected["implied_cf"], rel_tol=1e-12)
        assert values["cf_out_of_range"] is expected["cf_out_of_range"]
        assert values["co2_distance_mismatch"] is expected["co2_distance_mismatch"]
        assert values["time_at_sea_exceeds_year"] is expected["time_at_sea_exceeds_year"]
        # The published CO2 per distance confirms the derived distance to well under 1 %.
        assert expected["check_relative_error"] < 0.01
        checked += 1
    assert checked == SILVER_ROWS[year]


@needs_data
def test_quarantine_counts_per_reason(parsed, flat):
    _, reports = parsed
    expected = Counter()
    for year, rows in flat.items():
        for row in rows:
            reason = _expected(row, year)["quarantine"]
            if reason is not None:
                expected[(year, reason)] += 1
    counted = eu_mrv_parse.quarantine_counts(reports)
    assert counted == expected
    assert counted == QUARANTINE
    # EMSA writes the marker into both per-distance columns of those rows.
    assert all(
        r.problems[:2] == [DIVISION_BY_ZERO, "co2_per_distance_kg_nm: Division by zero!"] for r in reports if r.problems
    )


@needs_data
def test_cf_flags_pinned(parsed):
    _, reports = parsed
    flagged = Counter(r.period for r in reports if not r.problems and r.values["cf_out_of_range"])
    assert flagged == CF_OUT_OF_RANGE
    too_long = Counter(r.period for r in reports if not r.problems and r.values["time_at_sea_exceeds_year"])
    assert too_long == TIME_AT_SEA_EXCEEDS_YEAR
    assert not any(r.values["co2_distance_mismatch"] for r in reports if not r.problems)
    # A methanol-fuelled chemical tanker (TARANAKI SUN, 2019: 2,585.0 t CO2 from 1,128.16 t
    # fuel, as published) sits below LNG's 2.750 yet inside the MEPC.364(79) range.
    by_key, _ = parsed
    methanol = by_key[(2019, "9751406")].values
    assert methanol["implied_cf"] == pytest.approx(2585.0 / 1128.16, rel=1e-12)
    assert not methanol["cf_out_of_range"]


@needs_data
def test_dry_run_prints_one_json_line_per_input_row(parsed):
    _, reports = parsed
    out = io.StringIO()
    eu_mrv_ingest.print_dry_run([r for r in reports if r.period == 2018], out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(records) == INPUT_ROWS[2018]
    assert set(records[0]) == DRY_RUN_KEYS
    assert Counter(r["quarantine"] for r in records) == {None: SILVER_ROWS[2018], DIVISION_BY_ZERO: 640}
    first = records[0]
    assert first["imo"] == "5383304" and first["reporting_period"] == 2018
    assert math.isclose(first["distance_nm"], 6307.75 * 1000 / 139.07, rel_tol=1e-12)
    assert all(r["distance_nm"] is None and r["implied_cf"] is None for r in records if r["quarantine"])


# --- rules on constructed rows (no data needed) -------------------------------------

HEADER = [
    "IMO Number",
    "Name",
    "Ship type",
    "Reporting Period",
    "Total fuel consumption [m tonnes]",
    "Total CO₂ emissions [m tonnes]",
    "Annual Time spent at sea [hours]",
    "Annual average Fuel consumption per distance [kg / n mile]",
    "Annual average CO₂ emissions per distance [kg CO₂ / n mile]",
]


def _sheet(*rows):
    return [["Ship", None, None, None, "Annual monitoring results"], [None] * 5, HEADER, *rows]


def _row(imo="9751406", fuel=1000.0, co2=3114.0, fpd=50.0, cpd=155.7, name="A", period=2020.0, time=2000.0):
    return [imo, name, "Bulk carrier", period, fuel, co2, time, fpd, cpd]


def test_reasons_name_the_column_and_the_problem():
    rows = [
        _row(),
        _row(imo=None),
        _row(imo="9751407"),
        _row(imo="9083108", fuel="N/A"),
        _row(imo="9321483", co2="Not Applicable"),
        _row(imo="9074729", fpd="Division by zero!"),
        _row(imo="9454266", time="lots"),
        _row(imo="9436082", cpd=-1.0),
        _row(imo="9480710", fuel=0.0, co2=0.0),
    ]
    reports = eu_mrv_parse.finish(eu_mrv_parse.parse_rows(_sheet(*rows), "test.xlsx"))
    assert [r.quarantine for r in reports] == [
        None,
        "imo: missing",
        "imo: invalid check digit",
        "fuel_t: N/A",
        "co2_t: Not Applicable",
        "fuel_per_distance_kg_nm: Division by zero!",
        "time_at_sea_h: non-numeric",
        "co2_per_distance_kg_nm: negative",
        "fuel_t: zero, implied CO2 factor undefined",
    ]
    assert reports[0].source_row == 4 and reports[1].period == 2020  # the file's period
    assert math.isclose(reports[0].values["distance_nm"], 20000.0)


def test_duplicate_imo_rows():
    same = eu_mrv_parse.finish(eu_mrv_parse.parse_rows(_sheet(_row(), _row()), "t.xlsx"))
    assert [r.quarantine for r in same] == [None, "imo: exact duplicate of t.xlsx row 4"]
    differ = eu_mrv_parse.finish(eu_mrv_parse.parse_rows(_sheet(_row(), _row(fuel=10.0, co2=31.14)), "t.xlsx"))
    assert all(r.quarantine == "imo: conflicting duplicate rows in reporting period (rows 4, 5)" for r in differ)


def test_flags():
    assert eu_mrv_parse.cf_out_of_range(100.0, 630.0)
    assert eu_mrv_parse.cf_out_of_range(100.0, 100.0)
    assert not eu_mrv_parse.cf_out_of_range(100.0, 320.6)  # diesel, upper end
    assert not eu_mrv_parse.cf_out_of_range(0.5, 1.61)  # 3.22 only through rounding
    assert not eu_mrv_parse.co2_distance_mismatch(1000.0, 3114.0, 50.0, 155.7)
    assert eu_mrv_parse.co2_distance_mismatch(1000.0, 3114.0, 50.0, 160.0)


def test_missing_header_is_refused():
    with pytest.raises(eu_mrv_parse.WorkbookLayoutError, match="time_at_sea_h"):
        eu_mrv_parse.parse_rows([HEADER[:6]], "t.xlsx")


def test_dry_run_cli_on_a_workbook(tmp_path, capsys, monkeypatch):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in _sheet(_row(), _row(imo="9083108", fuel="N/A")):
        sheet.append(row)
    path = tmp_path / "mrv.xlsx"
    workbook.save(path)
    # --dry-run starts no Spark session.
    monkeypatch.setattr("maritimeiq.spark.get_spark", lambda *a, **k: pytest.fail("Spark started"))
    eu_mrv_ingest.main([str(tmp_path / "*.xlsx"), "--dry-run"])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [set(r) for r in records] == [DRY_RUN_KEYS] * 2
    assert [r["quarantine"] for r in records] == [None, "fuel_t: N/A"]
    assert records[0]["distance_nm"] == 20000.0 and records[1]["distance_nm"] is None


def test_both_console_scripts_run_the_ingest():
    """`maritime-mrv` is the name the ingest was published under; `maritime-eu-mrv-ingest`
    matches its module and DAG."""
    from importlib.metadata import entry_points

    scripts = {e.name: e for e in entry_points(group="console_scripts")}
    assert scripts["maritime-mrv"].load() is eu_mrv_ingest.main
    assert scripts["maritime-eu-mrv-ingest"].load() is eu_mrv_ingest.main


def test_expand_refuses_patterns_matching_nothing(tmp_path):
    (tmp_path / "a.xlsx").write_bytes(b"")
    assert eu_mrv_ingest.expand(["*.xlsx"], root=tmp_path) == [str(tmp_path / "a.xlsx")]
    with pytest.raises(FileNotFoundError):
        eu_mrv_ingest.expand([str(tmp_path / "missing-*.xlsx")])


def test_delta_write_is_idempotent(spark, tmp_path):
    from pyspark.testing import assertDataFrameEqual

    rows = [
        _row(),
        _row(imo="9083108", fuel=500.0, co2=1557.0, fpd=25.0, cpd=77.85),
        _row(imo="9321483", fuel=200.0, co2=2000.0, fpd=10.0, cpd=100.0),
        _row(imo="9074729", fpd="N/A"),
        _row(imo="9454266", period=2019.0, fuel=300.0, co2=825.0, fpd=15.0, cpd=41.25, time=9000.0),
    ]
    reports = eu_mrv_parse.finish(eu_mrv_parse.parse_rows(_sheet(*rows), "t.xlsx"))
    lake = str(tmp_path)
    silver, quarantine, gold_path = (
        table.path(lake)
        for table in (
            catalog.SILVER_EU_MRV_REPORTS,
            catalog.SILVER_EU_MRV_QUARANTINE,
            catalog.GOLD_EU_MRV_SHIP_TYPE_YEAR,
        )
    )

    assert eu_mrv_ingest.load(spark, reports, lake) == {"reports": 4, "quarantined": 1}
    first = {p: spark.read.format("delta").load(p).collect() for p in (silver, quarantine, gold_path)}
    eu_mrv_ingest.load(spark, reports, lake)
    for path, before in first.items():
        assertDataFrameEqual(spark.read.format("delta").load(path), before)
    gold = {(r.reporting_period, r.ship_type): r for r in first[gold_path]}
    g2020 = gold[(2020, "Bulk carrier")]
    assert (g2020.ships, g2020.fuel_t, g2020.co2_t, g2020.distance_nm) == (3, 1700.0, 6671.0, 60000.0)
    assert math.isclose(g2020.median_implied_cf, 3.114) and g2020.ships_cf_out_of_range == 1
    g2019 = gold[(2019, "Bulk carrier")]
    assert (g2019.ships, g2019.time_at_sea_h, g2019.ships_time_at_sea_exceeds_year) == (1, None, 1)
    assert g2020.time_at_sea_h == 6000.0
    # Rerunning one period leaves the other period's rows alone.
    eu_mrv_ingest.load(spark, [r for r in reports if r.period == 2019], lake)
    assertDataFrameEqual(spark.read.format("delta").load(gold_path), first[gold_path])
    assert spark.read.format("delta").load(quarantine).count() == 1
