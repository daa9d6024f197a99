"""IMO Carbon Intensity Indicator: the regulation's tables and formulas, in plain Python.

The tables live here once. The Spark job (`maritime_jobs.emissions_compliance`) turns them into
small broadcast lookup tables and map expressions; tests check them against numbers
written out by hand from the resolutions.

* Attained CII (AER), MEPC.352(78) (G1): CO2 grams / (capacity x distance in nm).
* CO2 conversion factors C_F, MEPC.364(79).
* Reference lines a x capacity^(-c), MEPC.353(78) (G2), with its capped and banded rows.
* Reduction factors Z: MEPC.338(76) for 2023-2026, MEPC.400(83) for 2027-2030.
* Rating boundaries required x exp(d1..d4), MEPC.354(78) (G4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# t CO2 per t fuel, MEPC.364(79). Keys are the fuel codes of the `fuel_report` event.
CO2_FACTOR_T_PER_T: dict[str, float] = {
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

# Main-engine SFC baseline, g/kWh, Fourth IMO GHG Study 2020 (SFC_base table of the
# bottom-up method). Assumption: vessel_static carries neither engine type nor build
# year, so every main engine is taken as built after 2000, slow-speed diesel (SSD) for
# oil fuels and methanol and medium-speed LNG-Otto for LNG. VLSFO-type LFO is a
# residual fuel, so it takes the HFO value. The study gives no engine baseline for LPG,
# ethane or ethanol: vessels burning them are not estimated.
SFOC_G_PER_KWH: dict[str, float] = {
    "HFO": 175.0,
    "LFO": 175.0,
    "MDO": 165.0,
    "MGO": 165.0,
    "LNG": 156.0,
    "METHANOL": 350.0,
}

# Fourth IMO GHG Study: main-engine load (SOG / reference speed)^3 is capped at 98 % MCR.
MAX_ENGINE_LOAD = 0.98

# Fourth IMO GHG Study 2020, SFC of a diesel main engine at load L (fraction of MCR):
# SFC = SFC_base x (0.455 L^2 - 0.710 L + 1.280). Coefficients of L^2, L and 1.
LOW_LOAD_SFC_COEFFICIENTS = (0.455, -0.710, 1.280)

# Auxiliary engines and boilers burn distillate (the fuel line real ships report for them).
# SFC_base, g/kWh, Fourth IMO GHG Study 2020 (SFC_base table, engines built after 2000, MDO):
# auxiliary engine 185, steam boiler 320; both independent of load in the Study.
AUXILIARY_FUEL = "MGO"
AUXILIARY_ENGINE_SFC_G_PER_KWH = 185.0
BOILER_SFC_G_PER_KWH = 320.0

# Operating phases of the Fourth IMO GHG Study 2020 (operational phase table), from SOG in
# knots: at berth below 1, anchored below 3, manoeuvring up to 5, at sea above. The Study
# also uses the distance to port and coast (manoeuvring at 3-5 kn only within 5 nm of
# them; at berth only within 5 nm of a port); the platform has no coastline, so speed and
# the AIS navigational status (5 moored = at berth, 1 at anchor = anchored) decide.
PHASES = ("at_berth", "anchored", "manoeuvring", "at_sea")
AT_BERTH_BELOW_KN = 1.0
ANCHORED_BELOW_KN = 3.0
MANOEUVRING_UP_TO_KN = 5.0


@dataclass(frozen=True)
class AuxiliaryDemand:
    """One size band of Fourth IMO GHG Study 2020 Table 17: auxiliary engine and boiler
    power demand in kW per phase (PHASES order), for `min_size <= size` up to the next band."""

    ship_category: str
    size_unit: str  # the Study's size measure: "DWT" or "GT"
    min_size: float
    boiler_kw: tuple[float, float, float, float]
    auxiliary_kw: tuple[float, float, float, float]


# Fourth IMO GHG Study 2020, Table 17 (auxiliary engine and boiler power demand by ship
# type, size and phase). Only the classes whose size measure vessel_static carries (DWT or
# GT) are here; container ships (TEU), gas and LNG carriers (m3), vehicle carriers (cars)
# and combination carriers have no row and get no auxiliary estimate.
_BULK_SMALL, _BULK_MID, _BULK_LARGE = (
    ((70, 70, 60, 0), (110, 180, 500, 190)),
    ((130, 130, 120, 0), (150, 250, 680, 260)),
    ((260, 260, 240, 0), (240, 400, 1100, 410)),
)
_GENERAL_CARGO_LARGE = ((150, 150, 130, 0), (720, 370, 1450, 520))
_RO_RO_BOILER_SMALL, _RO_RO_BOILER_LARGE = (260, 250, 170, 0), (390, 380, 260, 0)
_CRUISE_BOILER, _CRUISE_LARGE_AUX = (1100, 950, 980, 0), (11500, 11500, 14900, 11500)


def _per_phase(kw: tuple[int, int, int, int]) -> tuple[float, float, float, float]:
    return (float(kw[0]), float(kw[1]), float(kw[2]), float(kw[3]))


AUXILIARY_DEMAND: tuple[AuxiliaryDemand, ...] = tuple(
    AuxiliaryDemand(category, unit, float(size), _per_phase(boiler), _per_phase(aux))
    for category, unit, bands in (
        (
            "bulk_carrier",
            "DWT",
            (
                (0, *_BULK_SMALL),
                (10_000, *_BULK_SMALL),
                (35_000, *_BULK_MID),
                (60_000, *_BULK_LARGE),
                (100_000, *_BULK_LARGE),
                (200_000, *_BULK_LARGE),
            ),
        ),
        (
            "tanker",
            "DWT",
            (  # the Study's oil tankers
                (0, (500, 100, 100, 0), (250, 250, 375, 250)),
                (5_000, (750, 150, 150, 0), (375, 375, 560, 375)),
                (10_000, (1250, 250, 250, 0), (690, 500, 580, 490)),
                (20_000, (2700, 270, 270, 270), (720, 520, 600, 510)),
                (60_000, (3250, 360, 360, 280), (620, 490, 770, 560)),
                (80_000, (4000, 400, 400, 280), (800, 640, 910, 690)),
                (120_000, (6500, 500, 500, 300), (2500, 770, 1300, 860)),
                (200_000, (7000, 600, 600, 300), (2500, 770, 1300, 860)),
            ),
        ),
        (
            "general_cargo_ship",
            "DWT",
            (
                (0, (0, 0, 0, 0), (90, 50, 180, 60)),
                (5_000, (110, 110, 100, 0), (240, 130, 490, 180)),
                (10_000, *_GENERAL_CARGO_LARGE),
                (20_000, *_GENERAL_CARGO_LARGE),
            ),
        ),
        (
            "refrigerated_cargo_carrier",
            "DWT",
            (  # the Study's refrigerated bulk
                (0, (270, 270, 270, 0), (520, 570, 560, 570)),
                (2_000, (270, 270, 270, 0), (1100, 1200, 1150, 1200)),
                (6_000, (270, 270, 270, 0), (1500, 1650, 1600, 1650)),
                (10_000, (270, 270, 270, 0), (2850, 3100, 3000, 3100)),
            ),
        ),
        (
            "ro_ro_cargo_ship",
            "DWT",
            (
                (0, _RO_RO_BOILER_SMALL, (750, 430, 1300, 430)),
                (5_000, _RO_RO_BOILER_SMALL, (1100, 680, 2100, 680)),
                (10_000, _RO_RO_BOILER_LARGE, (1200, 950, 2700, 950)),
                (15_000, _RO_RO_BOILER_LARGE, (1200, 950, 2700, 950)),
            ),
        ),
        (
            "ro_ro_passenger_ship",
            "GT",
            (  # the Study's ro-pax
                (0, _RO_RO_BOILER_SMALL, (105, 105, 105, 105)),
                (2_000, _RO_RO_BOILER_SMALL, (330, 330, 330, 330)),
                (5_000, _RO_RO_BOILER_SMALL, (670, 670, 670, 670)),
                (10_000, _RO_RO_BOILER_LARGE, (1100, 1100, 1100, 1000)),
                (20_000, _RO_RO_BOILER_LARGE, (1950, 1950, 1950, 1950)),
            ),
        ),
        (
            "cruise_passenger_ship",
            "GT",
            (
                (0, _CRUISE_BOILER, (450, 450, 580, 450)),
                (2_000, _CRUISE_BOILER, (450, 450, 580, 450)),
                (10_000, _CRUISE_BOILER, (3500, 3500, 5500, 3500)),
                (60_000, _CRUISE_BOILER, _CRUISE_LARGE_AUX),
                (100_000, _CRUISE_BOILER, _CRUISE_LARGE_AUX),
                (150_000, _CRUISE_BOILER, _CRUISE_LARGE_AUX),
            ),
        ),
    )
    for size, boiler, aux in bands
)


def auxiliary_demand(ship_category: str | None, dwt: float | None, gt: float | None) -> AuxiliaryDemand | None:
    """The Table 17 band of a ship (None when its class or size is not in the table)."""
    category = canonical_category(ship_category)
    bands = [row for row in AUXILIARY_DEMAND if row.ship_category == category]
    size = (dwt if bands and bands[0].size_unit == "DWT" else gt) if bands else None
    if size is None or size <= 0:
        return None
    return max((row for row in bands if size >= row.min_size), key=lambda row: row.min_size)


def main_engine_sfc(sfc_base: float, load: float) -> float:
    """g/kWh at `load` (fraction of MCR), Fourth IMO GHG Study 2020 low-load correction."""
    a, b, c = LOW_LOAD_SFC_COEFFICIENTS
    return sfc_base * (a * load * load + b * load + c)


# Reduction factor Z in per cent relative to 2019: MEPC.338(76) (2023-2026), MEPC.400(83) (2027-2030).
REDUCTION_FACTOR_PCT: dict[int, float] = {
    2023: 5.0,
    2024: 7.0,
    2025: 9.0,
    2026: 11.0,
    2027: 13.625,
    2028: 16.25,
    2029: 18.875,
    2030: 21.5,
}

RATINGS = ("A", "B", "C", "D", "E")

# The `period` of a rating. MARPOL Annex VI reg. 28.6 acts on the annual rating, from a
# whole calendar year's data; a year-to-date rating (the year still running, or its data
# not yet through 31 December) is provisional and raises no corrective action plan.
ANNUAL = "annual"
YEAR_TO_DATE = "year_to_date"
PERIODS = (ANNUAL, YEAR_TO_DATE)

# Capacity of the attained and required CII, MEPC.352(78) G1: deadweight for cargo
# ships, gross tonnage for passenger and ro-ro ships.
CAPACITY_UNIT: dict[str, str] = {
    "bulk_carrier": "DWT",
    "gas_carrier": "DWT",
    "tanker": "DWT",
    "container_ship": "DWT",
    "general_cargo_ship": "DWT",
    "refrigerated_cargo_carrier": "DWT",
    "combination_carrier": "DWT",
    "lng_carrier": "DWT",
    "ro_ro_cargo_ship_vehicle_carrier": "GT",
    "ro_ro_cargo_ship": "GT",
    "ro_ro_passenger_ship": "GT",
    "ro_ro_passenger_ship_high_speed_craft": "GT",
    "cruise_passenger_ship": "GT",
}

# Names other sources use for the same ship types (the fleet simulator's among them).
CATEGORY_ALIASES: dict[str, str] = {
    "general_cargo": "general_cargo_ship",
    "refrigerated_cargo": "refrigerated_cargo_carrier",
    "vehicle_carrier": "ro_ro_cargo_ship_vehicle_carrier",
    "ro_ro_cargo_vehicle_carrier": "ro_ro_cargo_ship_vehicle_carrier",
    "ro_ro_cargo": "ro_ro_cargo_ship",
    "ro_ro_passenger": "ro_ro_passenger_ship",
    "high_speed_craft": "ro_ro_passenger_ship_high_speed_craft",
    "cruise_passenger": "cruise_passenger_ship",
    "oil_tanker": "tanker",
    "chemical_tanker": "tanker",
}


@dataclass(frozen=True)
class ReferenceLine:
    """One row of MEPC.353(78) Table 1 with its MEPC.354(78) rating vector.

    The row applies to ships with `min_capacity <= capacity < max_capacity` (no upper
    bound when `max_capacity` is None). `fixed_capacity`, where set, replaces the
    ship's capacity in the reference line only (the attained CII keeps the real one).
    """

    ship_category: str
    min_capacity: float
    max_capacity: float | None
    a: float
    c: float
    fixed_capacity: float | None
    exp_d: tuple[float, float, float, float]


_BULK = (0.86, 0.94, 1.06, 1.18)
_GENERAL_CARGO = (0.83, 0.94, 1.06, 1.19)
_LNG_BELOW_100K = (0.78, 0.92, 1.10, 1.37)
_VEHICLE_CARRIER = (0.86, 0.94, 1.06, 1.16)
_RO_RO_PASSENGER = (0.76, 0.92, 1.14, 1.30)

REFERENCE_LINES: tuple[ReferenceLine, ...] = (
    # Bulk carriers of 279,000 DWT and above use capacity 279,000.
    ReferenceLine("bulk_carrier", 279_000, None, 4745, 0.622, 279_000, _BULK),
    ReferenceLine("bulk_carrier", 0, 279_000, 4745, 0.622, None, _BULK),
    ReferenceLine("gas_carrier", 65_000, None, 14405e7, 2.071, None, (0.81, 0.91, 1.12, 1.44)),
    ReferenceLine("gas_carrier", 0, 65_000, 8104, 0.639, None, (0.85, 0.95, 1.06, 1.25)),
    ReferenceLine("tanker", 0, None, 5247, 0.610, None, (0.82, 0.93, 1.08, 1.28)),
    ReferenceLine("container_ship", 0, None, 1984, 0.489, None, (0.83, 0.94, 1.07, 1.19)),
    ReferenceLine("general_cargo_ship", 20_000, None, 31948, 0.792, None, _GENERAL_CARGO),
    ReferenceLine("general_cargo_ship", 0, 20_000, 588, 0.3885, None, _GENERAL_CARGO),
    ReferenceLine("refrigerated_cargo_carrier", 0, None, 4600, 0.557, None, (0.78, 0.91, 1.07, 1.20)),
    ReferenceLine("combination_carrier", 0, None, 5119, 0.622, None, (0.87, 0.96, 1.06, 1.14)),
    ReferenceLine("lng_carrier", 100_000, None, 9.827, 0.0, None, (0.89, 0.98, 1.06, 1.13)),
    ReferenceLine("lng_carrier", 65_000, 100_000, 14479e10, 2.673, None, _LNG_BELOW_100K),
    # Below 65,000 DWT: capacity 65,000 and a = 14779E10 as printed in MEPC.353(78)
    # Table 1 (not the 14479E10 of the 65,000-100,000 row; open calculators differ).
    ReferenceLine("lng_carrier", 0, 65_000, 14779e10, 2.673, 65_000, _LNG_BELOW_100K),
    # Vehicle carriers of 57,700 GT and above use capacity 57,700.
    ReferenceLine("ro_ro_cargo_ship_vehicle_carrier", 57_700, None, 3627, 0.590, 57_700, _VEHICLE_CARRIER),
    ReferenceLine("ro_ro_cargo_ship_vehicle_carrier", 30_000, 57_700, 3627, 0.590, None, _VEHICLE_CARRIER),
    ReferenceLine("ro_ro_cargo_ship_vehicle_carrier", 0, 30_000, 330, 0.329, None, _VEHICLE_CARRIER),
    ReferenceLine("ro_ro_cargo_ship", 0, None, 1967, 0.485, None, (0.76, 0.89, 1.08, 1.27)),
    ReferenceLine("ro_ro_passenger_ship", 0, None, 2023, 0.460, None, _RO_RO_PASSENGER),
    # High-speed craft (SOLAS chapter X): own reference line; MEPC.354(78) gives ro-ro
    # passenger ships one rating vector, applied here to both.
    ReferenceLine("ro_ro_passenger_ship_high_speed_craft", 0, None, 4196, 0.460, None, _RO_RO_PASSENGER),
    ReferenceLine("cruise_passenger_ship", 0, None, 930, 0.383, None, (0.87, 0.95, 1.06, 1.16)),
)


def canonical_category(name: str | None) -> str | None:
    """The MEPC.353(78) ship type for a category name, or None when it has no CII type."""
    if name is None:
        return None
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = CATEGORY_ALIASES.get(key, key)
    return key if key in CAPACITY_UNIT else None


def capacity_of(ship_category: str, dwt: float | None, gt: float | None) -> float | None:
    """Deadweight or gross tonnage by ship type (MEPC.352(78)); None when unknown or not positive."""
    value = dwt if CAPACITY_UNIT[ship_category] == "DWT" else gt
    return value if value is not None and value > 0 else None


def reference_line(ship_category: str, capacity: float) -> ReferenceLine:
    if capacity <= 0:
        raise ValueError(f"capacity must be positive, got {capacity}")
    for line in REFERENCE_LINES:
        if (
            line.ship_category == ship_category
            and capacity >= line.min_capacity
            and (line.max_capacity is None or capacity < line.max_capacity)
        ):
            return line
    raise ValueError(f"no CII reference line for ship type {ship_category!r}")


def reference_cii(ship_category: str, capacity: float) -> float:
    """CII_ref = a x Capacity^(-c), MEPC.353(78)."""
    line = reference_line(ship_category, capacity)
    return line.a * (line.fixed_capacity or capacity) ** -line.c


def reduction_factor(year: int) -> float:
    if year not in REDUCTION_FACTOR_PCT:
        raise ValueError(
            f"no reduction factor Z for {year}: defined for {min(REDUCTION_FACTOR_PCT)}-{max(REDUCTION_FACTOR_PCT)}"
        )
    return REDUCTION_FACTOR_PCT[year]


def required_cii(ship_category: str, capacity: float, year: int) -> float:
    """Required CII = (1 - Z/100) x CII_ref (MARPOL Annex VI regulation 28.4)."""
    return (1 - reduction_factor(year) / 100) * reference_cii(ship_category, capacity)


def boundaries(required: float, ship_category: str, capacity: float) -> tuple[float, float, float, float]:
    """Superior, lower, upper and inferior boundaries: required x exp(d1..d4), MEPC.354(78)."""
    return tuple(required * e for e in reference_line(ship_category, capacity).exp_d)  # type: ignore[return-value]


def rating(attained: float, required: float, ship_category: str, capacity: float) -> str:
    """A below the superior boundary, ..., E at or above the inferior one (MEPC.354(78)).

    Capacity is needed because gas and LNG carriers have a rating vector per size band.
    """
    for grade, boundary in zip(RATINGS, boundaries(required, ship_category, capacity)):
        if attained < boundary:
            return grade
    return "E"


def co2_t(fuel_type: str, fuel_t: float) -> float:
    """CO2 tonnes from one fuel's mass (MEPC.364(79) C_F); unknown fuel codes raise."""
    if fuel_type not in CO2_FACTOR_T_PER_T:
        raise ValueError(f"unknown fuel code {fuel_type!r}")
    return fuel_t * CO2_FACTOR_T_PER_T[fuel_type]


def attained_cii(co2_tonnes: float, capacity: float, distance_nm: float) -> float:
    """AER in g CO2 per capacity-nautical mile, MEPC.352(78)."""
    return co2_tonnes * 1e6 / (capacity * distance_nm)


def cap_required(history: Mapping[int, tuple[str, str]], year: int) -> bool:
    """Whether `year`'s rating calls for a corrective action plan.

    `history` maps a year to (rating, period), period ANNUAL or YEAR_TO_DATE. MARPOL
    Annex VI reg. 28.6: an annual E, or annual D in `year` and the two years before.
    A year-to-date rating is provisional and never counts, neither as this year's nor
    as an earlier one.
    """

    def annual_rating(y: int) -> str | None:
        if y not in history:
            return None
        grade, period = history[y]
        if period not in PERIODS:
            raise ValueError(f"period of {y} must be one of {PERIODS}, got {period!r}")
        return grade if period == ANNUAL else None

    if annual_rating(year) == "E":
        return True
    return all(annual_rating(y) == "D" for y in (year - 2, year - 1, year))


def co2_cut_to_c(attained: float, required: float, ship_category: str, capacity: float) -> float:
    """Per cent of CO2 to cut, at the same distance, for attained to reach the upper boundary of C."""
    upper_c = boundaries(required, ship_category, capacity)[2]
    return max(0.0, 1 - upper_c / attained) * 100


def reference_line_rows() -> list[tuple]:
    """REFERENCE_LINES with capacity units, for a Spark lookup table (see `REFERENCE_LINE_SCHEMA`)."""
    return [
        (
            line.ship_category,
            CAPACITY_UNIT[line.ship_category],
            float(line.min_capacity),
            None if line.max_capacity is None else float(line.max_capacity),
            float(line.a),
            float(line.c),
            None if line.fixed_capacity is None else float(line.fixed_capacity),
            *map(float, line.exp_d),
        )
        for line in REFERENCE_LINES
    ]


REFERENCE_LINE_SCHEMA = (
    "ship_category string, capacity_unit string, min_capacity double, max_capacity double, "
    "a double, c double, fixed_capacity double, exp_d1 double, exp_d2 double, exp_d3 double, "
    "exp_d4 double"
)
