"""CII tables and formulas against numbers written out from the resolutions.

Reference lines: MEPC.353(78) Table 1; Z: MEPC.338(76) and MEPC.400(83); rating
vectors exp(d1..d4): MEPC.354(78) Table 1; C_F: MEPC.364(79). The expected values are
typed in here, not taken from `maritimeiq.cii`.
"""

from __future__ import annotations

import pytest

from maritimeiq import cii

Z = {2023: 5, 2024: 7, 2025: 9, 2026: 11, 2027: 13.625, 2028: 16.25, 2029: 18.875, 2030: 21.5}


@pytest.mark.parametrize(
    ("category", "capacity", "year", "expected"),
    [
        ("bulk_carrier", 50_000, 2026, (1 - 11 / 100) * 4745 * 50_000**-0.622),
        ("bulk_carrier", 278_999, 2024, (1 - 7 / 100) * 4745 * 278_999**-0.622),
        # At and above 279,000 DWT the reference line uses 279,000.
        ("bulk_carrier", 279_000, 2024, (1 - 7 / 100) * 4745 * 279_000**-0.622),
        ("bulk_carrier", 400_000, 2024, (1 - 7 / 100) * 4745 * 279_000**-0.622),
        ("gas_carrier", 64_999, 2025, (1 - 9 / 100) * 8104 * 64_999**-0.639),
        ("gas_carrier", 65_000, 2025, (1 - 9 / 100) * 14405e7 * 65_000**-2.071),
        ("gas_carrier", 84_000, 2030, (1 - 21.5 / 100) * 14405e7 * 84_000**-2.071),
        ("lng_carrier", 174_000, 2027, (1 - 13.625 / 100) * 9.827),
        ("lng_carrier", 100_000, 2027, (1 - 13.625 / 100) * 9.827),
        ("lng_carrier", 99_999, 2027, (1 - 13.625 / 100) * 14479e10 * 99_999**-2.673),
        ("lng_carrier", 65_000, 2027, (1 - 13.625 / 100) * 14479e10 * 65_000**-2.673),
        # Below 65,000 DWT: capacity 65,000 with the a printed for that row.
        ("lng_carrier", 40_000, 2027, (1 - 13.625 / 100) * 14779e10 * 65_000**-2.673),
        ("ro_ro_cargo_ship_vehicle_carrier", 70_000, 2028, (1 - 16.25 / 100) * 3627 * 57_700**-0.590),
        ("ro_ro_cargo_ship_vehicle_carrier", 57_700, 2028, (1 - 16.25 / 100) * 3627 * 57_700**-0.590),
        ("ro_ro_cargo_ship_vehicle_carrier", 45_000, 2028, (1 - 16.25 / 100) * 3627 * 45_000**-0.590),
        ("ro_ro_cargo_ship_vehicle_carrier", 30_000, 2028, (1 - 16.25 / 100) * 3627 * 30_000**-0.590),
        ("ro_ro_cargo_ship_vehicle_carrier", 29_999, 2028, (1 - 16.25 / 100) * 330 * 29_999**-0.329),
        ("container_ship", 120_000, 2023, (1 - 5 / 100) * 1984 * 120_000**-0.489),
        ("tanker", 80_000, 2029, (1 - 18.875 / 100) * 5247 * 80_000**-0.610),
        ("cruise_passenger_ship", 90_000, 2026, (1 - 11 / 100) * 930 * 90_000**-0.383),
        ("general_cargo_ship", 20_000, 2026, (1 - 11 / 100) * 31948 * 20_000**-0.792),
        ("general_cargo_ship", 8_000, 2026, (1 - 11 / 100) * 588 * 8_000**-0.3885),
        ("refrigerated_cargo_carrier", 12_000, 2026, (1 - 11 / 100) * 4600 * 12_000**-0.557),
        ("combination_carrier", 70_000, 2026, (1 - 11 / 100) * 5119 * 70_000**-0.622),
        ("ro_ro_cargo_ship", 25_000, 2026, (1 - 11 / 100) * 1967 * 25_000**-0.485),
        ("ro_ro_passenger_ship", 30_000, 2026, (1 - 11 / 100) * 2023 * 30_000**-0.460),
        ("ro_ro_passenger_ship_high_speed_craft", 6_000, 2026, (1 - 11 / 100) * 4196 * 6_000**-0.460),
    ],
)
def test_required_cii_by_hand(category, capacity, year, expected):
    assert cii.required_cii(category, capacity, year) == pytest.approx(expected, rel=1e-12)


def test_worked_example_from_domain_reference():
    # 50,000 DWT bulk carrier, 2026, 5,000 t HFO + 400 t MGO, 60,000 nm.
    co2 = cii.co2_t("HFO", 5000) + cii.co2_t("MGO", 400)
    assert co2 == pytest.approx(5000 * 3.114 + 400 * 3.206) and co2 == pytest.approx(16_852.4)
    required = cii.required_cii("bulk_carrier", 50_000, 2026)
    assert cii.reference_cii("bulk_carrier", 50_000) == pytest.approx(5.6686, abs=1e-4)
    assert required == pytest.approx(5.0451, abs=1e-4)
    assert cii.boundaries(required, "bulk_carrier", 50_000) == pytest.approx((4.3388, 4.7424, 5.3478, 5.9532), abs=1e-4)
    attained = cii.attained_cii(co2, 50_000, 60_000)
    assert attained == pytest.approx(16_852.4e6 / (50_000 * 60_000)) and attained == pytest.approx(5.6175, abs=1e-4)
    assert cii.rating(attained, required, "bulk_carrier", 50_000) == "D"


@pytest.mark.parametrize(
    ("category", "capacity", "exp_d"),
    [
        ("bulk_carrier", 50_000, (0.86, 0.94, 1.06, 1.18)),
        ("gas_carrier", 80_000, (0.81, 0.91, 1.12, 1.44)),
        ("gas_carrier", 30_000, (0.85, 0.95, 1.06, 1.25)),
        ("tanker", 80_000, (0.82, 0.93, 1.08, 1.28)),
        ("container_ship", 80_000, (0.83, 0.94, 1.07, 1.19)),
        ("general_cargo_ship", 10_000, (0.83, 0.94, 1.06, 1.19)),
        ("refrigerated_cargo_carrier", 10_000, (0.78, 0.91, 1.07, 1.20)),
        ("combination_carrier", 10_000, (0.87, 0.96, 1.06, 1.14)),
        ("lng_carrier", 150_000, (0.89, 0.98, 1.06, 1.13)),
        ("lng_carrier", 80_000, (0.78, 0.92, 1.10, 1.37)),
        ("lng_carrier", 50_000, (0.78, 0.92, 1.10, 1.37)),
        ("ro_ro_cargo_ship_vehicle_carrier", 60_000, (0.86, 0.94, 1.06, 1.16)),
        ("ro_ro_cargo_ship", 20_000, (0.76, 0.89, 1.08, 1.27)),
        ("ro_ro_passenger_ship", 20_000, (0.76, 0.92, 1.14, 1.30)),
        ("cruise_passenger_ship", 90_000, (0.87, 0.95, 1.06, 1.16)),
    ],
)
def test_rating_at_and_either_side_of_each_boundary(category, capacity, exp_d):
    required = 7.5
    for below, above, factor in zip("ABCD", "BCDE", exp_d):
        boundary = required * factor
        assert cii.rating(boundary * (1 - 1e-9), required, category, capacity) == below
        assert cii.rating(boundary, required, category, capacity) == above  # the boundary belongs to the worse grade
        assert cii.rating(boundary * (1 + 1e-9), required, category, capacity) == above


def test_reduction_factor_per_year():
    assert {year: cii.reduction_factor(year) for year in range(2023, 2031)} == Z
    for year in (2022, 2031):
        with pytest.raises(ValueError):
            cii.reduction_factor(year)


ANNUAL, YTD = "annual", "year_to_date"


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ({2026: ("E", YTD)}, False),  # a year-to-date E is provisional
        ({2026: ("E", ANNUAL)}, True),  # an annual E
        ({2024: ("A", ANNUAL), 2025: ("B", ANNUAL), 2026: ("E", ANNUAL)}, True),
        ({2024: ("D", ANNUAL), 2025: ("D", ANNUAL), 2026: ("D", ANNUAL)}, True),  # D three years running
        ({2024: ("D", ANNUAL), 2025: ("D", ANNUAL), 2026: ("D", YTD)}, False),  # the third D not final yet
        ({2024: ("D", ANNUAL), 2025: ("D", YTD), 2026: ("D", ANNUAL)}, False),  # 2025 never closed
        ({2024: ("D", ANNUAL), 2025: ("C", ANNUAL), 2026: ("D", ANNUAL)}, False),
        ({2025: ("D", ANNUAL), 2026: ("D", ANNUAL)}, False),  # D twice is not yet a plan
        ({2023: ("D", ANNUAL), 2024: ("D", ANNUAL), 2026: ("D", ANNUAL)}, False),  # not consecutive
        ({2024: ("D", ANNUAL), 2025: ("D", ANNUAL), 2026: ("C", ANNUAL)}, False),
        ({2024: ("E", ANNUAL), 2025: ("D", ANNUAL), 2026: ("D", ANNUAL)}, False),  # an earlier E is not a D
    ],
)
def test_corrective_action_plan_only_on_annual_ratings(history, expected):
    # MARPOL Annex VI regulation 28.6.
    assert cii.cap_required(history, 2026) is expected


def test_corrective_action_plan_rejects_an_unknown_period():
    with pytest.raises(ValueError, match="period"):
        cii.cap_required({2026: ("E", "final")}, 2026)


# Size bands, written out from MEPC.353(78) Table 1: (category, capacity just below, at threshold).
@pytest.mark.parametrize(
    ("category", "below", "at", "line_below", "line_at"),
    [
        ("bulk_carrier", 278_999, 279_000, (4745, 0.622, 278_999), (4745, 0.622, 279_000)),
        ("gas_carrier", 64_999, 65_000, (8104, 0.639, 64_999), (14405e7, 2.071, 65_000)),
        ("general_cargo_ship", 19_999, 20_000, (588, 0.3885, 19_999), (31948, 0.792, 20_000)),
        ("lng_carrier", 64_999, 65_000, (14779e10, 2.673, 65_000), (14479e10, 2.673, 65_000)),
        ("lng_carrier", 99_999, 100_000, (14479e10, 2.673, 99_999), (9.827, 0.0, 100_000)),
        ("ro_ro_cargo_ship_vehicle_carrier", 29_999, 30_000, (330, 0.329, 29_999), (3627, 0.590, 30_000)),
        ("ro_ro_cargo_ship_vehicle_carrier", 57_699, 57_700, (3627, 0.590, 57_699), (3627, 0.590, 57_700)),
    ],
)
def test_reference_line_either_side_of_each_threshold(category, below, at, line_below, line_at):
    for capacity, (a, c, used) in ((below, line_below), (at, line_at)):
        assert cii.reference_cii(category, capacity) == pytest.approx(a * used**-c, rel=1e-12)


@pytest.mark.parametrize(
    ("category", "below", "at", "exp_d_below", "exp_d_at"),
    [
        ("gas_carrier", 64_999, 65_000, (0.85, 0.95, 1.06, 1.25), (0.81, 0.91, 1.12, 1.44)),
        ("lng_carrier", 99_999, 100_000, (0.78, 0.92, 1.10, 1.37), (0.89, 0.98, 1.06, 1.13)),
        ("lng_carrier", 64_999, 65_000, (0.78, 0.92, 1.10, 1.37), (0.78, 0.92, 1.10, 1.37)),
    ],
)
def test_rating_vector_either_side_of_each_band(category, below, at, exp_d_below, exp_d_at):
    # MEPC.354(78) Table 1: gas and LNG carriers have a dd vector per size band.
    assert cii.boundaries(10.0, category, below) == pytest.approx(tuple(10.0 * e for e in exp_d_below))
    assert cii.boundaries(10.0, category, at) == pytest.approx(tuple(10.0 * e for e in exp_d_at))


def test_size_bands_cover_every_capacity_once():
    # The Spark job joins on the bands: a gap would leave a ship unrated, an overlap would duplicate it.
    for category in cii.CAPACITY_UNIT:
        bands = sorted(
            (line.min_capacity, line.max_capacity) for line in cii.REFERENCE_LINES if line.ship_category == category
        )
        assert bands[0][0] == 0 and bands[-1][1] is None, category
        assert all(upper == lower for (_, upper), (lower, _) in zip(bands, bands[1:])), category


def test_co2_factors_and_unknown_fuel():
    factors = {
        "HFO": 3.114,
        "LFO": 3.151,
        "MDO": 3.206,
        "MGO": 3.206,
        "LNG": 2.750,
        "LPG_P": 3.000,
        "LPG_B": 3.030,
        "ETHANE": 2.927,
        "METHANOL": 1.375,
        "ETHANOL": 1.913,
    }
    assert {fuel: cii.co2_t(fuel, 1.0) for fuel in factors} == pytest.approx(factors)
    with pytest.raises(ValueError, match="unknown fuel"):
        cii.co2_t("BUNKER_X", 1.0)


def test_ship_categories_and_capacity():
    # The fleet simulator's names map onto the MEPC.353(78) ship types.
    assert cii.canonical_category("general_cargo") == "general_cargo_ship"
    assert cii.canonical_category("ro_ro_passenger") == "ro_ro_passenger_ship"
    assert cii.canonical_category("LNG_Carrier") == "lng_carrier"
    assert cii.canonical_category("fishing") is None and cii.canonical_category(None) is None
    assert cii.capacity_of("bulk_carrier", 50_000, 27_000) == 50_000
    assert cii.capacity_of("cruise_passenger_ship", 9_000, 90_000) == 90_000
    assert cii.capacity_of("tanker", 0.0, 10_000) is None


def test_co2_cut_to_stay_at_c():
    required = cii.required_cii("tanker", 80_000, 2030)
    upper_c = required * 1.08
    assert cii.co2_cut_to_c(upper_c * 1.25, required, "tanker", 80_000) == pytest.approx(20.0)
    assert cii.co2_cut_to_c(upper_c * 0.9, required, "tanker", 80_000) == 0.0
