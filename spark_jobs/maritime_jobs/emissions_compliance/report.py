"""The IMO CII compliance report of one reporting year: its summary, and the Markdown,
CSV and PNG files written beside the lake."""

from __future__ import annotations

import csv
import posixpath
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from maritime_jobs.emissions_compliance.transforms import RATING_COLUMNS
from maritimeiq import cii


def default_reports_dir(lake_root: str) -> Path:
    """Reports live beside the lake: `<lake root>/../reports`."""
    return Path(posixpath.dirname(lake_root.rstrip("/"))) / "reports"


def write_report(
    reports_dir: Path,
    year: int,
    ratings: list[dict[str, Any]],
    trajectory: list[dict[str, Any]],
    summary: dict[str, Any],
) -> dict[str, Path]:
    """Markdown, CSV (the cii_ratings rows of the year) and a PNG chart, overwritten per year."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    stem = reports_dir / f"cii_compliance_{year}"
    paths = {"markdown": stem.with_suffix(".md"), "csv": stem.with_suffix(".csv"), "chart": stem.with_suffix(".png")}
    with paths["csv"].open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=RATING_COLUMNS)
        writer.writeheader()
        writer.writerows({k: _csv_value(row[k]) for k in RATING_COLUMNS} for row in ratings)
    _chart(paths["chart"], year, ratings)
    paths["markdown"].write_text(_markdown(year, ratings, trajectory, summary, paths))
    return paths


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, date):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


def _chart(path: Path, year: int, ratings: list[dict[str, Any]]) -> None:
    # The headless backend has to be chosen before pyplot loads.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, (bars, lines) = plt.subplots(1, 2, figsize=(13, 5))
    counts = [sum(r["rating"] == grade for r in ratings) for grade in cii.RATINGS]
    bars.bar(cii.RATINGS, counts, color=["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"])
    bars.set_title(f"Fleet CII ratings {year} ({len(ratings)} vessels)")
    bars.set_xlabel("rating")
    bars.set_ylabel("vessels")
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))
    by_category: dict[str, list[dict[str, Any]]] = {}
    for row in ratings:
        by_category.setdefault(row["ship_category"], []).append(row)
    for index, (category, rows) in enumerate(sorted(by_category.items())):
        colour = f"C{index % 10}"
        # The required line over the category's capacity range, widened so one ship still shows a line.
        low, high = 0.6 * min(r["capacity"] for r in rows), 1.4 * max(r["capacity"] for r in rows)
        grid = [low * (high / low) ** (i / 59) for i in range(60)]
        lines.plot(
            grid, [cii.required_cii(category, c, year) for c in grid], color=colour, label=f"{category} required"
        )
        lines.scatter(
            [r["capacity"] for r in rows],
            [r["attained"] for r in rows],
            color=colour,
            s=18,
            label=f"{category} attained",
        )
    lines.set_title(f"Attained vs required CII {year}")
    lines.set_xscale("log")
    lines.set_xlabel("capacity (DWT or GT, log scale)")
    lines.set_ylabel("g CO2 / capacity-nm")
    if by_category:
        lines.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(
    year: int,
    ratings: list[dict[str, Any]],
    trajectory: list[dict[str, Any]],
    summary: dict[str, Any],
    paths: dict[str, Path],
) -> str:
    years = sorted({t["year"] for t in trajectory})
    per_vessel: dict[str, dict[int, dict[str, Any]]] = {}
    for t in trajectory:
        per_vessel.setdefault(t["mmsi"], {})[t["year"]] = t
    lines = [
        f"# IMO CII compliance report {year}",
        "",
        f"Data through {summary['through_date'] or 'n/a'} ({summary['period']}); check `{summary['check']}`. "
        "Attained AER per MEPC.352(78), required CII per MEPC.353(78) with Z of MEPC.338(76)/MEPC.400(83), "
        "ratings per MEPC.354(78). AIS-estimated vessels (Fourth IMO GHG Study bottom-up: main engine, "
        "auxiliary engines and boilers) "
        "are marked.",
        "",
        "| rating | vessels |",
        "|---|---|",
        *[f"| {grade} | {summary['ratings'].get(grade, 0)} |" for grade in cii.RATINGS],
        "",
        f"* Vessels rated: {summary['vessels_rated']}",
        f"* Vessels exceeding the required CII: {summary['exceeding_required']}",
        f"* Corrective action plan required: {summary['cap_required']}"
        + (
            ""
            if summary["period"] == cii.ANNUAL
            else " (year-to-date ratings are provisional: a plan follows from annual ratings only, reg. 28.6)"
        ),
        f"* Estimated from AIS: {summary['estimated_share']:.1%}",
        f"* Excluded: {counts_text(summary['excluded'])}",
        f"* Fuel reports quarantined: {counts_text(summary['quarantined'])}",
        "",
        "## Vessels",
        "",
        "| MMSI | ship type | capacity | distance nm | CO2 t | attained | required | rating | CAP | estimated | "
        + " | ".join(str(y) for y in years)
        + f" | cut to C in {max(years, default='-')} |",
        "|---|---|---|---|---|---|---|---|---|---|" + "---|" * len(years) + "---|",
    ]
    for r in ratings:
        future = per_vessel.get(r["mmsi"], {})
        last = future.get(max(years)) if years else None
        cut = f"{last['co2_cut_pct_to_c']:.1f} % ({last['co2_cut_t_to_c']:.0f} t)" if last else ""
        lines.append(
            f"| {r['mmsi']} | {r['ship_category']} | {r['capacity']:.0f} {r['capacity_unit']} | "
            f"{r['distance_nm']:.0f} | {r['co2_t']:.1f} | {r['attained']:.3f} | {r['required']:.3f} | "
            f"{r['rating']} | {'yes' if r['cap_required'] else ''} | {'yes' if r['is_estimated'] else ''} | "
            + " | ".join(future[y]["rating"] if y in future else "" for y in years)
            + f" | {cut} |"
        )
    lines += [
        "",
        f"CSV: `{paths['csv'].name}`; chart: `{paths['chart'].name}`.",
        "",
        f"![ratings and CII lines]({paths['chart'].name})",
        "",
    ]
    return "\n".join(lines)


def counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"


def summarize(
    year: int,
    check: str,
    ratings: list[dict[str, Any]],
    vessels: list[dict[str, Any]],
    quarantined: dict[str, int],
    records_loaded: int,
) -> dict[str, Any]:
    """The year's figures from the rated vessels (`cii_ratings` rows), every vessel seen
    (with `exclusion_reason`, `through_date`, `period`) and the quarantined fuel lines."""
    return {
        "year": year,
        "check": check,
        "through_date": vessels[0]["through_date"] if vessels else None,
        "period": vessels[0]["period"] if vessels else "year_to_date",
        "vessels_rated": len(ratings),
        "ratings": {grade: sum(r["rating"] == grade for r in ratings) for grade in cii.RATINGS},
        "exceeding_required": sum(r["exceeds_required"] for r in ratings),
        "cap_required": sum(r["cap_required"] for r in ratings),
        "estimated_share": sum(r["is_estimated"] for r in ratings) / len(ratings) if ratings else 0.0,
        "excluded": dict(Counter(v["exclusion_reason"] for v in vessels if v["exclusion_reason"])),
        "quarantined": quarantined,
        "records_loaded": records_loaded,
    }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The summary as the job logs it once the report is written."""
    return [
        f"IMO CII {summary['year']} ({summary['check']}, {summary['period']} through {summary['through_date']})",
        "vessels per rating: " + ", ".join(f"{g} {n}" for g, n in summary["ratings"].items()),
        f"vessels exceeding required CII: {summary['exceeding_required']} of {summary['vessels_rated']}",
        f"corrective action plan required: {summary['cap_required']}",
        f"estimated from AIS: {summary['estimated_share']:.1%}",
        f"excluded vessels: {counts_text(summary['excluded'])}",
        f"quarantined fuel reports: {counts_text(summary['quarantined'])}",
        f"records loaded: {summary['records_loaded']} ({summary['records_per_minute']:,.0f} records/minute)",
        f"report: {summary['report']['markdown']}",
    ]
