"""The emissions and CII transforms: DataFrames in, DataFrames out, no I/O.

CO2 per fuel report and per vessel-day, the AIS fuel estimate, attained and required
CII, A-E ratings, corrective-action-plan flags and the rating trajectory. The
regulation's tables live in `maritimeiq.cii`; here they become broadcast lookup tables
and expressions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from maritimeiq import cii

# ITU-R M.1371 navigational status 5 (moored) and 1 (at anchor) name the Fourth IMO GHG
# Study phases at berth and anchored outright (cii.PHASES); no propulsion in either.
MOORED_STATUS, AT_ANCHOR_STATUS = 5, 1
# Distance belongs to the vessel-day (events.py `fuel_report`) and is repeated on each fuel
# line of the day: lines further apart than this are flagged (reports state 0.1 nm).
DISTANCE_CONFLICT_NM = 0.1
ROLLING_WINDOWS_DAYS = (7, 30)
# Each compliance check names the years whose required CII the trajectory projects.
COMPLIANCE_CHECKS: dict[str, tuple[int, ...]] = {"imo-2030": tuple(range(2023, 2031))}

RATING_COLUMNS = (
    "mmsi",
    "year",
    "ship_category",
    "capacity",
    "capacity_unit",
    "distance_nm",
    "fuel_t",
    "co2_t",
    "attained",
    "required",
    "rating",
    "exceeds_required",
    "cap_required",
    "is_estimated",
    "period",
    "through_date",
)
TRAJECTORY_COLUMNS = ("mmsi", "reporting_year", "year", "required", "rating", "co2_cut_pct_to_c", "co2_cut_t_to_c")
DAILY_COLUMNS = (
    "mmsi",
    "date",
    "fuel_t",
    "co2_t",
    "distance_nm",
    "is_estimated",
    "rolling_7d_co2_t",
    "rolling_30d_co2_t",
)
QUARANTINE_COLUMNS = (
    "mmsi",
    "report_date",
    "fuel_type",
    "fuel_consumed_t",
    "quarantine_reason",
    "source",
    "partition",
    "offset",
)


@dataclass(frozen=True)
class Period:
    """One reporting year, [start, end) in UTC days; the rolling windows read
    `lookback_start` onwards."""

    year: int

    @property
    def start(self) -> date:
        return date(self.year, 1, 1)

    @property
    def end(self) -> date:
        return date(self.year + 1, 1, 1)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def lookback_start(self) -> date:
        return self.start - timedelta(days=max(ROLLING_WINDOWS_DAYS) - 1)

    @property
    def end_moment(self) -> datetime:
        return datetime(self.year + 1, 1, 1)


def within(column: str, start: date, end: date) -> Column:
    """`column` in [start, end)."""
    return (F.col(column) >= F.lit(start)) & (F.col(column) < F.lit(end))


# -- lookups generated from maritimeiq.cii ----------------------------------------------------------


def _lookup(key: Column, table: dict[Any, Any]) -> Column:
    """`table[key]` as a CASE expression; null for a missing or null key."""
    (first_key, first_value), *rest = table.items()
    expr = F.when(key == F.lit(first_key), F.lit(first_value))
    for k, v in rest:
        expr = expr.when(key == F.lit(k), F.lit(v))
    return expr


def fuel_code(column: Column) -> Column:
    return F.upper(F.trim(column))


def cii_category(column: Column) -> Column:
    """Spark form of `cii.canonical_category`: the MEPC.353(78) ship type or null."""
    key = F.regexp_replace(F.lower(F.trim(column)), "[- ]", "_")
    name = F.coalesce(_lookup(key, cii.CATEGORY_ALIASES), key)
    return F.when(_lookup(name, cii.CAPACITY_UNIT).isNotNull(), name)


def reference_lines(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(cii.reference_line_rows(), cii.REFERENCE_LINE_SCHEMA)


def reduction_factors(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(sorted(cii.REDUCTION_FACTOR_PCT.items()), "year int, z_pct double")


# -- transforms --------------------------------------------------------------------------------------


def co2_per_report(reports: DataFrame) -> DataFrame:
    """Fuel reports with `co2_t` = fuel mass x C_F (MEPC.364(79)) and a `quarantine_reason`.

    An unknown fuel code or a missing or negative mass is an error row, never a zero.
    """
    code = fuel_code(F.col("fuel_type"))
    factor = _lookup(code, cii.CO2_FACTOR_T_PER_T)
    reason = F.when(factor.isNull(), F.lit("unknown_fuel_type")).when(
        F.col("fuel_consumed_t").isNull() | (F.col("fuel_consumed_t") < 0), F.lit("invalid_fuel_mass")
    )
    return (
        reports.withColumn("fuel_type", code)
        .withColumn("quarantine_reason", reason)
        .withColumn("co2_t", F.when(reason.isNull(), F.col("fuel_consumed_t") * factor))
    )


def static_as_of(static: DataFrame, moment: datetime) -> DataFrame:
    """One vessel_static version per MMSI: the last one valid before `moment`, else the first one."""
    known = F.col("valid_from") < F.lit(moment)
    order = Window.partitionBy("mmsi").orderBy(
        known.desc(), F.when(known, F.col("valid_from")).desc_nulls_last(), F.col("valid_from").asc()
    )
    return static.withColumn("_n", F.row_number().over(order)).where(F.col("_n") == 1).drop("_n")


def auxiliary_bands(spark: SparkSession) -> DataFrame:
    """Fourth IMO GHG Study 2020 Table 17 (cii.AUXILIARY_DEMAND) as a lookup table: per ship
    type and size band, `auxiliary_t_per_h` maps each phase to the auxiliary engine and
    boiler fuel per hour (power demand x SFC_base)."""
    ordered = sorted(cii.AUXILIARY_DEMAND, key=lambda band: (band.ship_category, band.min_size))
    rows = []
    for band, following in zip(ordered, [*ordered[1:], None]):
        upper = following.min_size if following and following.ship_category == band.ship_category else None
        rates = {
            phase: (
                band.auxiliary_kw[i] * cii.AUXILIARY_ENGINE_SFC_G_PER_KWH + band.boiler_kw[i] * cii.BOILER_SFC_G_PER_KWH
            )
            / 1e6
            for i, phase in enumerate(cii.PHASES)
        }
        rows.append((band.ship_category, band.size_unit, band.min_size, upper, rates))
    return spark.createDataFrame(
        rows,
        "band_category string, band_size_unit string, band_min_size double, "
        "band_max_size double, auxiliary_t_per_h map<string, double>",
    )


def engine_inputs(static: DataFrame) -> DataFrame:
    """Per MMSI what the AIS estimate needs, with `estimate_issue` when something is missing.

    `auxiliary_t_per_h` (see `auxiliary_bands`) is null for a ship type or size that
    Table 17 does not cover here; those ships get no auxiliary estimate.
    """
    code = fuel_code(F.col("fuel_type"))
    sfoc = _lookup(code, cii.SFOC_G_PER_KWH)
    issue = (
        F.when(~(F.coalesce(F.col("mcr_kw"), F.lit(0.0)) > 0), F.lit("no_mcr"))
        .when(~(F.coalesce(F.col("service_speed_kn"), F.lit(0.0)) > 0), F.lit("no_reference_speed"))
        .when(_lookup(code, cii.CO2_FACTOR_T_PER_T).isNull(), F.lit("unknown_fuel_type"))
        .when(sfoc.isNull(), F.lit("no_sfoc_for_fuel"))
    )
    bands = auxiliary_bands(static.sparkSession)
    size = F.when(F.col("band_size_unit") == "DWT", F.col("dwt_t")).otherwise(F.col("gt"))
    in_band = (
        (F.col("_category") == F.col("band_category"))
        & (size > 0)
        & (size >= F.col("band_min_size"))
        & (F.col("band_max_size").isNull() | (size < F.col("band_max_size")))
    )
    return (
        static.withColumn("_category", cii_category(F.col("ship_category")))
        .join(F.broadcast(bands), in_band, "left")
        .select(
            "mmsi",
            "mcr_kw",
            F.col("service_speed_kn").alias("reference_speed_kn"),
            code.alias("fuel_type"),
            sfoc.alias("sfoc_g_kwh"),
            _lookup(code, cii.CO2_FACTOR_T_PER_T).alias("co2_factor"),
            "auxiliary_t_per_h",
            issue.alias("estimate_issue"),
        )
    )


def operating_phase(sog: Column, nav_status: Column) -> Column:
    """Fourth IMO GHG Study 2020 operating phase of a fix (cii.PHASES); null without SOG
    unless the navigational status says moored or at anchor."""
    return (
        F.when(nav_status == MOORED_STATUS, F.lit("at_berth"))
        .when(nav_status == AT_ANCHOR_STATUS, F.lit("anchored"))
        .when(sog < cii.AT_BERTH_BELOW_KN, F.lit("at_berth"))
        .when(sog < cii.ANCHORED_BELOW_KN, F.lit("anchored"))
        .when(sog <= cii.MANOEUVRING_UP_TO_KN, F.lit("manoeuvring"))
        .when(sog > cii.MANOEUVRING_UP_TO_KN, F.lit("at_sea"))
    )


def estimate_ais_fuel(positions: DataFrame, engines: DataFrame) -> DataFrame:
    """Fuel per MMSI and day from AIS (Fourth IMO GHG Study 2020 bottom-up method).

    Every hop between consecutive fixes of the day counts, as in `vessel_daily_metrics`,
    so fuel and distance cover the same hours. Over a hop the speed is interpolated
    linearly between its two fixes, as the Study fills gaps in AIS coverage; a satellite
    track sampled every few hours thus gets the fuel of its whole distance. The phase is
    that of the hop's first fix (`operating_phase`).

    Main engine, manoeuvring and at sea: load = (SOG / reference speed)^3 averaged over the
    hop, capped at 0.98; fuel = load x MCR x hours x SFC_base x (0.455 L^2 - 0.710 L +
    1.280). Auxiliary engines and boilers: Table 17 demand of the phase x hours x SFC_base,
    on distillate (cii.AUXILIARY_FUEL).
    """
    fixes = positions.where(F.col("latitude").isNotNull() & F.col("longitude").isNotNull()).join(
        engines.where(F.col("estimate_issue").isNull()), "mmsi"
    )
    track = Window.partitionBy("mmsi", "event_date").orderBy("event_time", "offset")
    hop_hours = (F.lead("event_time").over(track).cast("double") - F.col("event_time").cast("double")) / 3600.0
    a = F.col("sog_kn") / F.col("reference_speed_kn")
    b = F.coalesce(F.lead("sog_kn").over(track), F.col("sog_kn")) / F.col("reference_speed_kn")
    # Mean of the cube of a speed rising linearly from a to b: (a^3 + a^2 b + a b^2 + b^3) / 4.
    cubic = (a * a * a + a * a * b + a * b * b + b * b * b) / 4
    load = F.least(cubic, F.lit(cii.MAX_ENGINE_LOAD))
    c2, c1, c0 = cii.LOW_LOAD_SFC_COEFFICIENTS
    sfc = F.col("sfoc_g_kwh") * (c2 * load * load + c1 * load + c0)
    phase = operating_phase(F.col("sog_kn"), F.col("nav_status"))
    propelled = phase.isin("manoeuvring", "at_sea")
    main_t = F.when(propelled, load * F.col("mcr_kw") * hop_hours * sfc / 1e6).otherwise(F.lit(0.0))
    auxiliary_t = F.col("auxiliary_t_per_h")[phase] * hop_hours
    hops = fixes.select(
        "mmsi",
        F.col("event_date").alias("date"),
        "co2_factor",
        F.coalesce(main_t, F.lit(0.0)).alias("main_t"),
        F.coalesce(auxiliary_t, F.lit(0.0)).alias("aux_t"),
    )
    aux_factor = cii.CO2_FACTOR_T_PER_T[cii.AUXILIARY_FUEL]
    return (
        hops.groupBy("mmsi", "date", "co2_factor")
        .agg(F.sum("main_t").alias("main_t"), F.sum("aux_t").alias("aux_t"))
        .select(
            "mmsi",
            "date",
            (F.col("main_t") + F.col("aux_t")).alias("fuel_t"),
            (F.col("main_t") * F.col("co2_factor") + F.col("aux_t") * F.lit(aux_factor)).alias("co2_t"),
        )
    )


def distance_conflicts(reports_co2: DataFrame) -> DataFrame:
    """Valid fuel lines of vessel-days whose lines state distances more than
    DISTANCE_CONFLICT_NM apart, with `quarantine_reason = distance_conflict`. They stay
    counted (the day takes the largest distance); this only makes the conflict visible."""
    day = Window.partitionBy("mmsi", "report_date")
    valid = reports_co2.where(F.col("quarantine_reason").isNull())
    spread = F.max("distance_nm").over(day) - F.min("distance_nm").over(day)
    return (
        valid.withColumn("_spread", spread)
        .where(F.col("_spread") > DISTANCE_CONFLICT_NM)
        .drop("_spread")
        .withColumn("quarantine_reason", F.lit("distance_conflict"))
    )


def daily_co2(reports_co2: DataFrame, estimated: DataFrame, vessel_daily: DataFrame, period: Period) -> DataFrame:
    """CO2 per MMSI and day of the period with 7- and 30-day rolling sums.

    A vessel's days of a calendar year in which it filed any valid fuel report come from
    its reports; its days of a year without one (such as the previous December read for
    the rolling windows) come from the AIS estimate. The day's distance is counted once:
    it belongs to the vessel-day and each fuel line repeats it, so the day takes the
    largest stated (lines that disagree are flagged by `distance_conflicts`). Rolling sums
    are time ranges over calendar days (a missing day counts as no emission, not as a
    skipped row).
    """
    valid = reports_co2.where(F.col("quarantine_reason").isNull())
    reported = (
        valid.groupBy("mmsi", F.col("report_date").alias("date"))
        .agg(
            F.sum("fuel_consumed_t").alias("fuel_t"),
            F.sum("co2_t").alias("co2_t"),
            F.max("distance_nm").alias("reported_distance_nm"),
        )
        .withColumn("is_estimated", F.lit(False))
    )
    reporting_years = valid.select("mmsi", F.year("report_date").alias("_year")).distinct()
    unreported = (
        estimated.withColumn("_year", F.year("date"))
        .join(reporting_years, ["mmsi", "_year"], "left_anti")
        .select(
            "mmsi",
            "date",
            "fuel_t",
            "co2_t",
            F.lit(None).cast("double").alias("reported_distance_nm"),
            F.lit(True).alias("is_estimated"),
        )
    )
    ais_distance = vessel_daily.select(
        "mmsi", F.col("event_date").alias("date"), F.col("distance_nm").alias("ais_distance_nm")
    )
    days = reported.unionByName(unreported).join(ais_distance, ["mmsi", "date"], "left")
    day_number = F.datediff(F.col("date"), F.lit(date(1970, 1, 1)))
    by_day = Window.partitionBy("mmsi").orderBy(day_number)
    rolling = {
        f"rolling_{n}d_co2_t": F.sum("co2_t").over(by_day.rangeBetween(-(n - 1), 0)) for n in ROLLING_WINDOWS_DAYS
    }
    return (
        days.select("*", *[expr.alias(name) for name, expr in rolling.items()])
        .withColumn("distance_nm", F.coalesce("reported_distance_nm", "ais_distance_nm"))
        .where(within("date", period.start, period.end))
        .select(*DAILY_COLUMNS)
    )


def vessel_year(daily: DataFrame, vessels: DataFrame, active: DataFrame, period: Period) -> DataFrame:
    """Per vessel seen in the year: totals, CII ship type, capacity, attained AER, and an
    `exclusion_reason` for vessels that cannot be rated.

    `vessels`: mmsi, ship_category, dwt_t, gt (one row per MMSI); `active`: the MMSIs seen.
    Attained CII (MEPC.352(78)) = CO2 g / (capacity x distance nm); capacity is DWT or GT
    by ship type; `period` says whether the data cover the whole year or the year to date.
    """
    in_year = daily.where(within("date", period.start, period.end))
    totals = in_year.groupBy("mmsi").agg(
        F.sum("co2_t").alias("co2_t"),
        F.sum("fuel_t").alias("fuel_t"),
        F.sum("distance_nm").alias("distance_nm"),
        F.max(F.col("is_estimated").cast("int")).cast("boolean").alias("is_estimated"),
    )
    through = in_year.agg(F.max("date").alias("through_date"))
    category = cii_category(F.col("ship_category"))
    unit = _lookup(category, cii.CAPACITY_UNIT)
    capacity = F.when(unit == "DWT", F.col("dwt_t")).when(unit == "GT", F.col("gt"))
    reason = (
        F.when(F.col("ship_category").isNull(), F.lit("no_cii_ship_type"))
        .when(~(F.coalesce(F.col("capacity"), F.lit(0.0)) > 0), F.lit("no_capacity"))
        .when(F.col("co2_t").isNull(), F.lit("no_fuel_data"))
        .when(~(F.coalesce(F.col("distance_nm"), F.lit(0.0)) > 0), F.lit("no_distance"))
    )
    return (
        active.select("mmsi")
        .distinct()
        .join(totals, "mmsi", "left")
        .join(
            vessels.select(
                "mmsi", category.alias("ship_category"), unit.alias("capacity_unit"), capacity.alias("capacity")
            ),
            "mmsi",
            "left",
        )
        .crossJoin(through)
        .withColumn("exclusion_reason", reason)
        .withColumn(
            "attained",
            F.when(
                F.col("exclusion_reason").isNull(), F.col("co2_t") * 1e6 / (F.col("capacity") * F.col("distance_nm"))
            ),
        )
        .withColumn("year", F.lit(period.year))
        .withColumn(
            "period",
            F.when(F.col("through_date") == F.lit(period.last_day), F.lit("annual")).otherwise(F.lit("year_to_date")),
        )
    )


def rate(frame: DataFrame, lines: DataFrame, factors: DataFrame) -> DataFrame:
    """Adds `required` ((1 - Z/100) x a x capacity^-c, MEPC.353(78)), `upper_c` and `rating`
    (MEPC.354(78) boundaries required x exp(d1..d4)) to rows with ship_category,
    capacity, year and attained."""
    line = lines.select(*[F.col(c).alias(f"line_{c}") for c in lines.columns])
    band = (
        (F.col("ship_category") == F.col("line_ship_category"))
        & (F.col("capacity") >= F.col("line_min_capacity"))
        & (F.col("line_max_capacity").isNull() | (F.col("capacity") < F.col("line_max_capacity")))
    )
    reference = F.col("line_a") * F.pow(F.coalesce("line_fixed_capacity", "capacity"), -F.col("line_c"))
    required = (1 - F.col("z_pct") / 100) * reference
    bounds = [F.col("required") * F.col(f"line_exp_d{i}") for i in range(1, 5)]
    # No reference line or no Z means no required CII: no rating, rather than a false E.
    grade = F.when(F.col("required").isNull() | F.col("attained").isNull(), F.lit(None).cast("string"))
    for letter, bound in zip("ABCD", bounds):
        grade = grade.when(F.col("attained") < bound, letter)
    return (
        frame.join(F.broadcast(line), band, "left")
        .join(F.broadcast(factors), "year", "left")
        .withColumn("required", required)
        .withColumn("upper_c", bounds[2])
        .withColumn("rating", grade.otherwise("E"))
        .drop(*line.columns, "z_pct")
    )


def cii_ratings(vessels: DataFrame, history: DataFrame, lines: DataFrame, factors: DataFrame) -> DataFrame:
    """Rated vessels of one year with the exceedance and corrective-action-plan flags.

    `history`: mmsi, year, rating, period of earlier years (as `rating_history` reads
    them). MARPOL Annex VI reg. 28.6: a corrective action plan is due for an annual E, or
    an annual D this year and in each of the two years before. Only `period = annual`
    ratings count, this year's and the earlier ones: a year-to-date rating is provisional.
    """
    rated = rate(vessels.where(F.col("exclusion_reason").isNull()), lines, factors)
    earlier = history.where(F.col("period") == cii.ANNUAL).select("mmsi", "year", "rating")
    for back in (1, 2):
        rated = rated.join(
            earlier.select("mmsi", (F.col("year") + back).alias("year"), F.col("rating").alias(f"rating_minus_{back}")),
            ["mmsi", "year"],
            "left",
        )
    d_three_years = (F.col("rating") == "D") & (F.col("rating_minus_1") == "D") & (F.col("rating_minus_2") == "D")
    cap = (F.col("period") == cii.ANNUAL) & ((F.col("rating") == "E") | d_three_years)
    return (
        rated.withColumn("exceeds_required", F.col("attained") > F.col("required"))
        .withColumn("cap_required", F.coalesce(cap, F.lit(False)))
        .withColumn("year", F.col("year").cast("int"))
        .select(*RATING_COLUMNS)
    )


def cii_trajectory(ratings: DataFrame, years: tuple[int, ...], lines: DataFrame, factors: DataFrame) -> DataFrame:
    """Each rated vessel's rating in every year of `years` at its current attained CII, and
    the CO2 cut (per cent and tonnes, same distance) that keeps it at C: attained at most
    the upper boundary of C."""
    spark = ratings.sparkSession
    targets = spark.createDataFrame([(y,) for y in years], "year int")
    grid = ratings.select(
        "mmsi", F.col("year").alias("reporting_year"), "ship_category", "capacity", "attained", "co2_t"
    ).crossJoin(targets)
    # A vessel that emitted nothing (attained 0) needs no cut; ANSI division by zero would fail the job.
    cut_pct = F.greatest(F.lit(0.0), 1 - F.try_divide(F.col("upper_c"), F.col("attained"))) * 100
    return (
        rate(grid, lines, factors)
        .withColumn("co2_cut_pct_to_c", cut_pct)
        .withColumn("co2_cut_t_to_c", F.col("co2_t") * F.col("co2_cut_pct_to_c") / 100)
        .select(*TRAJECTORY_COLUMNS)
    )


def transform(
    spark: SparkSession,
    sources: dict[str, DataFrame],
    history: DataFrame,
    period: Period,
    years: tuple[int, ...],
    materialize: Callable[[DataFrame], DataFrame] = lambda frame: frame,
) -> dict[str, DataFrame]:
    """All steps for one year. `materialize` is applied to each intermediate result that
    later steps reuse (the job caches them)."""
    reports = materialize(co2_per_report(sources["fuel_reports"]))
    estimated = estimate_ais_fuel(sources["ais_positions"], engine_inputs(sources["vessel_static"]))
    daily = materialize(daily_co2(reports, estimated, sources["vessel_daily"], period))
    active = (
        sources["ais_positions"]
        .where(within("event_date", period.start, period.end))
        .select("mmsi")
        .unionByName(sources["fuel_reports"].where(within("report_date", period.start, period.end)).select("mmsi"))
    )
    vessels = materialize(vessel_year(daily, sources["vessel_static"], active, period))
    lines, factors = reference_lines(spark), reduction_factors(spark)
    ratings = materialize(cii_ratings(vessels, history, lines, factors))
    return {
        "co2_daily": daily,
        "fuel_report_quarantine": reports.where(F.col("quarantine_reason").isNotNull())
        .unionByName(distance_conflicts(reports))
        .where(within("report_date", period.start, period.end))
        .select(*QUARANTINE_COLUMNS),
        "vessels": vessels,
        "cii_ratings": ratings,
        "cii_trajectory": cii_trajectory(ratings, years, lines, factors),
    }
