"""Spark CII ratings for every reference-line family, and the corrective action plan on
annual ratings only.

The expected numbers are worked out here from the published parameters, typed in from
the resolutions and not taken from `maritimeiq.cii`: reference lines a x capacity^(-c)
with their capacity rules (MEPC.353(78) Table 1), rating vectors exp(d1..d4)
(MEPC.354(78) Table 1), reduction factors Z (MEPC.338(76) for 2023-2026, MEPC.400(83)
for 2027-2030). The Spark path (`emissions_compliance.transforms.rate` on the reference-line table) and the
Python path (`maritimeiq.cii`) must both give them.
"""

from __future__ import annotations

from datetime import date

import pytest
from pyspark.testing import assertDataFrameEqual

from maritime_jobs.emissions_compliance.__main__ import rating_history
from maritime_jobs.emissions_compliance.report import write_report
from maritime_jobs.emissions_compliance.transforms import (
    RATING_COLUMNS,
    cii_category,
    cii_ratings,
    rate,
    reduction_factors,
    reference_lines,
)
from maritimeiq import catalog, cii

Z_PCT = {2023: 5.0, 2024: 7.0, 2025: 9.0, 2026: 11.0, 2027: 13.625, 2028: 16.25, 2029: 18.875, 2030: 21.5}

# MEPC.354(78) Table 1, exp(d1) .. exp(d4).
DD = {
    "bulk": (0.86, 0.94, 1.06, 1.18),
    "gas_65k_up": (0.81, 0.91, 1.12, 1.44),
    "gas_below_65k": (0.85, 0.95, 1.06, 1.25),
    "tanker": (0.82, 0.93, 1.08, 1.28),
    "container": (0.83, 0.94, 1.07, 1.19),
    "general_cargo": (0.83, 0.94, 1.06, 1.19),
    "refrigerated": (0.78, 0.91, 1.07, 1.20),
    "combination": (0.87, 0.96, 1.06, 1.14),
    "lng_100k_up": (0.89, 0.98, 1.06, 1.13),
    "lng_below_100k": (0.78, 0.92, 1.10, 1.37),
    "vehicle": (0.86, 0.94, 1.06, 1.16),
    "ro_ro_cargo": (0.76, 0.89, 1.08, 1.27),
    "ro_ro_passenger": (0.76, 0.92, 1.14, 1.30),
    "cruise": (0.87, 0.95, 1.06, 1.16),
}


def published_line(category: str, capacity: float) -> tuple[float, float, float, tuple[float, ...]]:
    """(a, c, capacity in the formula, dd vector) for a ship, read off MEPC.353(78) and
    MEPC.354(78) Table 1. Capacity is DWT for cargo ships, GT for ro-ro, ro-pax, cruise."""
    if category == "bulk_carrier":  # 279,000 DWT and above: capacity 279,000
        return 4745, 0.622, min(capacity, 279_000), DD["bulk"]
    if category == "gas_carrier":
        if capacity >= 65_000:
            return 14405e7, 2.071, capacity, DD["gas_65k_up"]
        return 8104, 0.639, capacity, DD["gas_below_65k"]
    if category == "tanker":
        return 5247, 0.610, capacity, DD["tanker"]
    if category == "container_ship":
        return 1984, 0.489, capacity, DD["container"]
    if category == "general_cargo_ship":
        if capacity >= 20_000:
            return 31948, 0.792, capacity, DD["general_cargo"]
        return 588, 0.3885, capacity, DD["general_cargo"]
    if category == "refrigerated_cargo_carrier":
        return 4600, 0.557, capacity, DD["refrigerated"]
    if category == "combination_carrier":
        return 5119, 0.622, capacity, DD["combination"]
    if category == "lng_carrier":
        if capacity >= 100_000:
            return 9.827, 0.0, capacity, DD["lng_100k_up"]
        if capacity >= 65_000:
            return 14479e10, 2.673, capacity, DD["lng_below_100k"]
        return 14779e10, 2.673, 65_000, DD["lng_below_100k"]  # below 65,000 DWT: capacity 65,000
    if category == "ro_ro_cargo_ship_vehicle_carrier":
        if capacity >= 57_700:  # 57,700 GT and above: capacity 57,700
            return 3627, 0.590, 57_700, DD["vehicle"]
        if capacity >= 30_000:
            return 3627, 0.590, capacity, DD["vehicle"]
        return 330, 0.329, capacity, DD["vehicle"]
    if category == "ro_ro_cargo_ship":
        return 1967, 0.485, capacity, DD["ro_ro_cargo"]
    if category == "ro_ro_passenger_ship":
        return 2023, 0.460, capacity, DD["ro_ro_passenger"]
    if category == "ro_ro_passenger_ship_high_speed_craft":  # SOLAS chapter X; ro-pax dd vector
        return 4196, 0.460, capacity, DD["ro_ro_passenger"]
    if category == "cruise_passenger_ship":
        return 930, 0.383, capacity, DD["cruise"]
    raise AssertionError(category)


def published_required(category: str, capacity: float, year: int) -> float:
    a, c, used, _ = published_line(category, capacity)
    return (1 - Z_PCT[year] / 100) * a * used**-c


# Every family, each band and cap on both sides of its threshold, every year's Z.
SHIPS = [
    ("bulk_carrier", 50_000, 2026),
    ("bulk_carrier", 278_999, 2024),
    ("bulk_carrier", 279_000, 2024),
    ("bulk_carrier", 400_000, 2023),
    ("gas_carrier", 20_000, 2025),
    ("gas_carrier", 64_999, 2025),
    ("gas_carrier", 65_000, 2025),
    ("gas_carrier", 84_000, 2030),
    ("tanker", 80_000, 2029),
    ("container_ship", 120_000, 2023),
    ("general_cargo_ship", 8_000, 2026),
    ("general_cargo_ship", 19_999, 2026),
    ("general_cargo_ship", 20_000, 2026),
    ("general_cargo_ship", 45_000, 2027),
    ("refrigerated_cargo_carrier", 12_000, 2026),
    ("combination_carrier", 70_000, 2026),
    ("lng_carrier", 40_000, 2027),
    ("lng_carrier", 64_999, 2027),
    ("lng_carrier", 65_000, 2027),
    ("lng_carrier", 80_000, 2028),
    ("lng_carrier", 99_999, 2028),
    ("lng_carrier", 100_000, 2028),
    ("lng_carrier", 174_000, 2030),
    ("ro_ro_cargo_ship_vehicle_carrier", 20_000, 2028),
    ("ro_ro_cargo_ship_vehicle_carrier", 29_999, 2028),
    ("ro_ro_cargo_ship_vehicle_carrier", 30_000, 2028),
    ("ro_ro_cargo_ship_vehicle_carrier", 45_000, 2029),
    ("ro_ro_cargo_ship_vehicle_carrier", 57_699, 2029),
    ("ro_ro_cargo_ship_vehicle_carrier", 57_700, 2029),
    ("ro_ro_cargo_ship_vehicle_carrier", 70_000, 2030),
    ("ro_ro_cargo_ship", 25_000, 2026),
    ("ro_ro_passenger_ship", 30_000, 2026),
    ("ro_ro_passenger_ship_high_speed_craft", 6_000, 2026),
    ("cruise_passenger_ship", 90_000, 2026),
    ("cruise_passenger_ship", 150_000, 2024),
]


def graded_attained(required: float, dd: tuple[float, ...]) -> list[tuple[float, str]]:
    """Attained values with the grade MEPC.354(78) gives them: inside each grade, and a
    hair either side of each boundary (a value on a boundary takes the worse grade; the
    exact tie is checked in test_cii.py with an exactly representable required)."""
    grades = "ABCDE"
    bounds = [required * e for e in dd]
    cases = [(bounds[0] * 0.9, "A"), (bounds[3] * 1.1, "E")]
    cases += [((low + high) / 2, grades[i + 1]) for i, (low, high) in enumerate(zip(bounds, bounds[1:]))]
    for i, bound in enumerate(bounds):
        cases += [(bound * (1 - 1e-9), grades[i]), (bound * (1 + 1e-9), grades[i + 1])]
    return cases


def test_rate_every_family_against_the_published_parameters(spark):
    rows, expected = [], []
    for category, capacity, year in SHIPS:
        required = published_required(category, capacity, year)
        dd = published_line(category, capacity)[3]
        for attained, grade in graded_attained(required, dd):
            rows.append((len(rows), category, float(capacity), year, attained))
            expected.append((len(expected), required, required * dd[2], grade))
    frame = spark.createDataFrame(rows, "id int, ship_category string, capacity double, year int, attained double")
    rated = rate(frame, reference_lines(spark), reduction_factors(spark))
    assertDataFrameEqual(
        rated.select("id", "required", "upper_c", "rating"),
        spark.createDataFrame(expected, "id int, required double, upper_c double, rating string"),
        rtol=1e-12,
        atol=0.0,
    )


@pytest.mark.parametrize(("category", "capacity", "year"), SHIPS)
def test_python_path_matches_the_published_parameters(category, capacity, year):
    required = published_required(category, capacity, year)
    assert cii.required_cii(category, capacity, year) == pytest.approx(required, rel=1e-12)
    for attained, grade in graded_attained(required, published_line(category, capacity)[3]):
        assert cii.rating(attained, cii.required_cii(category, capacity, year), category, capacity) == grade


def test_reference_line_table_holds_the_published_rows(spark):
    # (type, unit, from, below, a, c, capacity used if fixed, exp(d1..d4)), MEPC.353(78)/354(78) Table 1.
    published = [
        ("bulk_carrier", "DWT", 279_000, None, 4745, 0.622, 279_000, DD["bulk"]),
        ("bulk_carrier", "DWT", 0, 279_000, 4745, 0.622, None, DD["bulk"]),
        ("gas_carrier", "DWT", 65_000, None, 14405e7, 2.071, None, DD["gas_65k_up"]),
        ("gas_carrier", "DWT", 0, 65_000, 8104, 0.639, None, DD["gas_below_65k"]),
        ("tanker", "DWT", 0, None, 5247, 0.610, None, DD["tanker"]),
        ("container_ship", "DWT", 0, None, 1984, 0.489, None, DD["container"]),
        ("general_cargo_ship", "DWT", 20_000, None, 31948, 0.792, None, DD["general_cargo"]),
        ("general_cargo_ship", "DWT", 0, 20_000, 588, 0.3885, None, DD["general_cargo"]),
        ("refrigerated_cargo_carrier", "DWT", 0, None, 4600, 0.557, None, DD["refrigerated"]),
        ("combination_carrier", "DWT", 0, None, 5119, 0.622, None, DD["combination"]),
        ("lng_carrier", "DWT", 100_000, None, 9.827, 0.0, None, DD["lng_100k_up"]),
        ("lng_carrier", "DWT", 65_000, 100_000, 14479e10, 2.673, None, DD["lng_below_100k"]),
        ("lng_carrier", "DWT", 0, 65_000, 14779e10, 2.673, 65_000, DD["lng_below_100k"]),
        ("ro_ro_cargo_ship_vehicle_carrier", "GT", 57_700, None, 3627, 0.590, 57_700, DD["vehicle"]),
        ("ro_ro_cargo_ship_vehicle_carrier", "GT", 30_000, 57_700, 3627, 0.590, None, DD["vehicle"]),
        ("ro_ro_cargo_ship_vehicle_carrier", "GT", 0, 30_000, 330, 0.329, None, DD["vehicle"]),
        ("ro_ro_cargo_ship", "GT", 0, None, 1967, 0.485, None, DD["ro_ro_cargo"]),
        ("ro_ro_passenger_ship", "GT", 0, None, 2023, 0.460, None, DD["ro_ro_passenger"]),
        ("ro_ro_passenger_ship_high_speed_craft", "GT", 0, None, 4196, 0.460, None, DD["ro_ro_passenger"]),
        ("cruise_passenger_ship", "GT", 0, None, 930, 0.383, None, DD["cruise"]),
    ]
    schema = (
        "ship_category string, capacity_unit string, min_capacity double, max_capacity double, a double, "
        "c double, fixed_capacity double, exp_d1 double, exp_d2 double, exp_d3 double, exp_d4 double"
    )

    def as_float(value):
        return None if value is None else float(value)

    expected = spark.createDataFrame(
        [
            (t, u, float(lo), as_float(hi), float(a), float(c), as_float(fixed), *dd)
            for t, u, lo, hi, a, c, fixed, dd in published
        ],
        schema,
    )
    assertDataFrameEqual(reference_lines(spark), expected, rtol=0.0, atol=0.0)
    assertDataFrameEqual(
        reduction_factors(spark),
        spark.createDataFrame(sorted(Z_PCT.items()), "year int, z_pct double"),
        rtol=0.0,
        atol=0.0,
    )


def test_rate_leaves_unrateable_rows_unrated(spark):
    # No reference line (unknown type) or no Z (a year outside 2023-2030): no rating, never a false E.
    frame = spark.createDataFrame(
        [(1, "fishing_vessel", 500.0, 2026, 9.0), (2, "tanker", 80_000.0, 2031, 9.0)],
        "id int, ship_category string, capacity double, year int, attained double",
    )
    rated = rate(frame, reference_lines(spark), reduction_factors(spark)).select("id", "required", "rating")
    assertDataFrameEqual(
        rated, spark.createDataFrame([(1, None, None), (2, None, None)], "id int, required double, rating string")
    )


def test_category_names_map_like_the_python_path(spark):
    names = [
        "bulk_carrier",
        "General Cargo",
        "ro-ro passenger",
        "LNG_Carrier",
        " vehicle_carrier ",
        "oil_tanker",
        "high_speed_craft",
        "cruise_passenger",
        "fishing",
        None,
    ]
    frame = spark.createDataFrame([(i, n) for i, n in enumerate(names)], "id int, name string")
    assertDataFrameEqual(
        frame.select("id", cii_category(frame["name"]).alias("category")),
        spark.createDataFrame([(i, cii.canonical_category(n)) for i, n in enumerate(names)], "id int, category string"),
    )


# -- corrective action plan, MARPOL Annex VI regulation 28.6 ---------------------------------------

VESSELS = (
    "mmsi string, year int, ship_category string, capacity double, capacity_unit string, distance_nm double, "
    "fuel_t double, co2_t double, attained double, is_estimated boolean, period string, through_date date, "
    "exclusion_reason string"
)
HISTORY = "mmsi string, year int, rating string, period string"
# A 50,000 DWT bulk carrier in 2026: required = (1 - 11/100) x 4745 x 50,000^-0.622.
REQUIRED_2026 = (1 - 11 / 100) * 4745 * 50_000**-0.622
ATTAINED = {"C": REQUIRED_2026 * 1.00, "D": REQUIRED_2026 * 1.12, "E": REQUIRED_2026 * 1.25}
ANNUAL, YTD = "annual", "year_to_date"

# (this year's rating and period, earlier years {year: (rating, period)}, plan due)
CAP_CASES = {
    "219000001": (("E", YTD), {}, False),  # a year-to-date E
    "219000002": (("E", ANNUAL), {}, True),  # an annual E
    "219000003": (("D", ANNUAL), {2024: ("D", ANNUAL), 2025: ("D", ANNUAL)}, True),  # D, D, D annual
    "219000004": (("D", YTD), {2024: ("D", ANNUAL), 2025: ("D", ANNUAL)}, False),  # D, D annual + D YTD
    "219000005": (("D", ANNUAL), {2024: ("D", ANNUAL), 2025: ("C", ANNUAL)}, False),  # D, C, D
    "219000006": (("D", ANNUAL), {2024: ("D", ANNUAL), 2025: ("D", YTD)}, False),  # 2025 never closed
    "219000007": (("D", ANNUAL), {2025: ("D", ANNUAL)}, False),  # D twice
    "219000008": (("E", ANNUAL), {2024: ("D", ANNUAL), 2025: ("D", YTD)}, True),  # E alone suffices
}


def _vessels_and_history(spark, cases):
    vessels, history = [], []
    for mmsi, ((grade, period), earlier, _) in cases.items():
        through = date(2026, 12, 31) if period == ANNUAL else date(2026, 6, 30)
        vessels.append(
            (
                mmsi,
                2026,
                "bulk_carrier",
                50_000.0,
                "DWT",
                60_000.0,
                5_000.0,
                15_000.0,
                ATTAINED[grade],
                False,
                period,
                through,
                None,
            )
        )
        history += [(mmsi, year, g, p) for year, (g, p) in earlier.items()]
    return spark.createDataFrame(vessels, VESSELS), spark.createDataFrame(history, HISTORY)


def test_corrective_action_plan_only_on_annual_ratings(spark):
    vessels, history = _vessels_and_history(spark, CAP_CASES)
    ratings = cii_ratings(vessels, history, reference_lines(spark), reduction_factors(spark))
    assert tuple(ratings.columns) == RATING_COLUMNS
    expected = [(mmsi, grade, period, due) for mmsi, ((grade, period), _, due) in CAP_CASES.items()]
    assertDataFrameEqual(
        ratings.select("mmsi", "rating", "period", "cap_required"),
        spark.createDataFrame(expected, "mmsi string, rating string, period string, cap_required boolean"),
    )


@pytest.mark.parametrize("mmsi", sorted(CAP_CASES))
def test_python_corrective_action_plan_agrees(mmsi):
    this_year, earlier, due = CAP_CASES[mmsi]
    assert cii.cap_required({**earlier, 2026: this_year}, 2026) is due


def test_rating_history_carries_the_period_into_the_plan(spark, tmp_path):
    stored = [
        ("219000009", 2023, "E", ANNUAL),
        ("219000009", 2024, "D", ANNUAL),
        ("219000009", 2025, "D", YTD),
        ("219000010", 2024, "D", ANNUAL),
        ("219000010", 2025, "D", ANNUAL),
    ]
    columns = {name: None for name in RATING_COLUMNS}
    table = spark.createDataFrame(
        [tuple({**columns, "mmsi": m, "year": y, "rating": g, "period": p}.values()) for m, y, g, p in stored],
        "mmsi string, year int, ship_category string, capacity double, capacity_unit string, distance_nm double, "
        "fuel_t double, co2_t double, attained double, required double, rating string, exceeds_required boolean, "
        "cap_required boolean, is_estimated boolean, period string, through_date date",
    )
    table.write.format("delta").partitionBy("year").save(catalog.GOLD_CII_RATINGS.path(str(tmp_path)))

    history = rating_history(spark, str(tmp_path), 2026)
    assertDataFrameEqual(history, spark.createDataFrame([r for r in stored if r[1] >= 2024], HISTORY))
    vessels = spark.createDataFrame(
        [
            (
                m,
                2026,
                "bulk_carrier",
                50_000.0,
                "DWT",
                60_000.0,
                5_000.0,
                15_000.0,
                ATTAINED["D"],
                False,
                ANNUAL,
                date(2026, 12, 31),
                None,
            )
            for m in ("219000009", "219000010")
        ],
        VESSELS,
    )
    ratings = cii_ratings(vessels, history, reference_lines(spark), reduction_factors(spark))
    # 219000009: its 2025 D is year to date (never closed), so no three annual Ds.
    assertDataFrameEqual(
        ratings.select("mmsi", "cap_required"),
        spark.createDataFrame([("219000009", False), ("219000010", True)], "mmsi string, cap_required boolean"),
    )


@pytest.mark.parametrize(("period", "provisional"), [(YTD, True), (ANNUAL, False)])
def test_report_says_year_to_date_plans_are_provisional(tmp_path, period, provisional):
    summary = {
        "check": "imo-2030",
        "through_date": date(2026, 6, 30),
        "period": period,
        "vessels_rated": 0,
        "ratings": {},
        "exceeding_required": 0,
        "cap_required": 0,
        "estimated_share": 0.0,
        "excluded": {},
        "quarantined": {},
    }
    markdown = write_report(tmp_path, 2026, [], [], summary)["markdown"].read_text()
    assert ("provisional" in markdown) is provisional
