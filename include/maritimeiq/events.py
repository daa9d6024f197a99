"""Canonical event schemas: defined once, used by producers, Bronze and Silver.

Every event travels as one JSON object with an envelope (``event_type``,
``schema_version``, ``source``, ``event_time``) and the fields of its type. Times are
UTC ISO 8601 strings ending in ``Z``; MMSI is a 9-digit zero-padded string; AIS
"not available" values are null (ITU-R M.1371), never the sentinel numbers.

``docs/EVENTS.md`` is generated from this module (``maritime schemas``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from maritimeiq import catalog

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # string | int | double | bool | timestamp | date
    unit: str = ""
    nullable: bool = True
    doc: str = ""


ENVELOPE = (
    Field("event_type", "string", nullable=False, doc="name of the schema below"),
    Field("schema_version", "int", nullable=False, doc="version of that schema"),
    Field(
        "source", "string", nullable=False, doc="where the event came from, e.g. `nmea:file`, `csv:dma`, `simulator`"
    ),
    Field(
        "event_time",
        "timestamp",
        "UTC",
        nullable=False,
        doc="when the event happened (tag block, $PGHP, logger receive-time prefix, CSV or simulated time; "
        "else receive time)",
    ),
)

MMSI = Field("mmsi", "string", nullable=False, doc="Maritime Mobile Service Identity, 9 digits, zero-padded")

SCHEMAS: dict[str, tuple[Field, ...]] = {
    "ais_position": (
        MMSI,
        Field("msg_type", "int", nullable=False, doc="AIS message type (1, 2, 3, 18, 19, 27); 0 for CSV sources"),
        Field("ais_class", "string", doc="`A` or `B`"),
        Field("latitude", "double", "degrees", doc="WGS 84; null when not available (91)"),
        Field("longitude", "double", "degrees", doc="WGS 84; null when not available (181)"),
        Field("sog_kn", "double", "knots", doc="speed over ground; null when not available (102.3)"),
        Field("cog_deg", "double", "degrees", doc="course over ground; null when not available (360)"),
        Field("heading_deg", "int", "degrees", doc="true heading; null when not available (511)"),
        Field("rot_deg_min", "double", "degrees/minute", doc="rate of turn; null when not available (-128)"),
        Field("nav_status", "int", doc="navigational status 0-15 (15 = not defined)"),
        Field("position_accuracy", "bool", doc="true: high (<= 10 m)"),
        Field("utc_second", "int", "s", doc="second of the UTC minute of the fix; null when not available (60-63)"),
        Field("station", "string", doc="receiving station (tag block `s:`, $PGHP base station or USCG receiver)"),
        Field("raw", "string", doc="the NMEA sentence(s) the event was decoded from, newline-separated"),
    ),
    "vessel_static": (
        MMSI,
        Field("msg_type", "int", nullable=False, doc="5, 19, 24 (part A or B); 0 for CSV and simulator"),
        Field("imo", "int", doc="IMO number; null when 0 or absent"),
        Field("call_sign", "string"),
        Field("name", "string"),
        Field("ship_type", "int", doc="AIS ship and cargo type code 0-99"),
        Field("to_bow_m", "int", "m"),
        Field("to_stern_m", "int", "m"),
        Field("to_port_m", "int", "m"),
        Field("to_starboard_m", "int", "m"),
        Field("length_m", "double", "m", doc="to_bow + to_stern when both are known"),
        Field("beam_m", "double", "m", doc="to_port + to_starboard when both are known"),
        Field("draught_m", "double", "m"),
        Field("destination", "string"),
        Field("eta", "string", doc="ETA as broadcast, `MM-DDTHH:MM` (no year in AIS)"),
        Field("ais_class", "string", doc="`A` or `B`"),
        Field("part_number", "int", doc="message 24 part: 0 = A (name), 1 = B (type, call sign, size)"),
        Field(
            "ship_category",
            "string",
            doc="IMO CII ship type, e.g. `bulk_carrier`, `container_ship` (simulator and registries only)",
        ),
        Field("dwt_t", "double", "tonnes", doc="deadweight (simulator and registries only)"),
        Field("gt", "double", "GT", doc="gross tonnage (simulator and registries only)"),
        Field("service_speed_kn", "double", "knots"),
        Field("mcr_kw", "double", "kW", doc="main engine maximum continuous rating"),
        Field("fuel_type", "string", doc="main fuel: HFO, LFO, MDO, MGO, LNG, ..."),
        Field("raw", "string"),
    ),
    "ais_other": (
        MMSI,
        Field("msg_type", "int", nullable=False, doc="AIS types without a canonical form (4, 8, 21, ...), kept raw"),
        Field("station", "string"),
        Field("raw", "string", nullable=False),
    ),
    "environmental_reading": (
        MMSI,
        Field("engine_temp_c", "double", "°C", doc="main engine exhaust/jacket temperature"),
        Field("vibration_rms_mm_s", "double", "mm/s", doc="main engine vibration velocity RMS"),
        Field("lube_oil_pressure_bar", "double", "bar"),
        Field("fuel_flow_kg_h", "double", "kg/h"),
        Field("engine_load_pct", "double", "% MCR"),
        Field("running_hours", "double", "h", doc="main engine running hours since the last overhaul"),
        Field("wind_speed_kn", "double", "knots"),
        Field("wind_dir_deg", "double", "degrees"),
        Field("wave_height_m", "double", "m", doc="significant wave height"),
    ),
    "maintenance_event": (
        MMSI,
        Field("maintenance_id", "string", nullable=False),
        Field("kind", "string", nullable=False, doc="`corrective` (after a fault) or `planned`"),
        Field("component", "string", doc="e.g. `main_engine`"),
        Field("reason", "string"),
    ),
    "voyage_event": (
        MMSI,
        Field("voyage_id", "string", nullable=False),
        Field("kind", "string", nullable=False, doc="`departure` or `arrival`"),
        Field("port_unlocode", "string", nullable=False),
        Field("scheduled_time", "timestamp", "UTC"),
        Field("actual_time", "timestamp", "UTC"),
    ),
    "fuel_report": (
        MMSI,
        Field("report_date", "date", "UTC day", nullable=False, doc="the vessel-day the report covers"),
        Field(
            "fuel_type",
            "string",
            nullable=False,
            doc="HFO, LFO, MDO, MGO, LNG, LPG_P, LPG_B, ETHANE, METHANOL, ETHANOL; one event per fuel burnt "
            "that day (e.g. HFO for the main engine, MGO for auxiliaries and boilers)",
        ),
        Field(
            "fuel_consumed_t", "double", "tonnes", nullable=False, doc="mass of this fuel burnt that day, all consumers"
        ),
        Field(
            "distance_nm",
            "double",
            "nautical miles",
            doc="distance sailed that day: belongs to the vessel-day, not to the fuel, so every fuel event of "
            "the day repeats it; count it once per vessel-day",
        ),
        Field(
            "hours_underway",
            "double",
            "h",
            doc="hours underway that day; like distance, per vessel-day and repeated on each fuel event",
        ),
    ),
    "alert": (
        Field("alert_id", "string", nullable=False),
        Field("severity", "string", nullable=False, doc="P1, P2 or P3"),
        Field("title", "string", nullable=False),
        Field("detail", "string"),
        Field("mmsi", "string", doc="vessel concerned, if any"),
        Field("dag_id", "string"),
        Field("task_id", "string"),
    ),
}

TOPIC_OF = {
    "ais_position": catalog.AIS_TOPIC,
    "vessel_static": catalog.AIS_TOPIC,
    "ais_other": catalog.AIS_TOPIC,
    "environmental_reading": catalog.SENSORS_TOPIC,
    "maintenance_event": catalog.SENSORS_TOPIC,
    "voyage_event": catalog.VOYAGE_EVENTS_TOPIC,
    "fuel_report": catalog.VOYAGE_EVENTS_TOPIC,
    "alert": catalog.ALERTS_TOPIC,
}


def fields_of(event_type: str) -> tuple[Field, ...]:
    return ENVELOPE + SCHEMAS[event_type]


def iso_utc(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds and `Z`; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def normalise_mmsi(value: Any) -> str | None:
    """9-digit zero-padded MMSI string, or None when it cannot be one."""
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith(".0"):  # CSV readers turn integer columns into floats
        text = text[:-2]
    # isdigit() alone admits "²" and other non-ASCII digits, which int() rejects or misreads.
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) == 0:
        return None
    return text.zfill(9)


def make_event(event_type: str, source: str, event_time: datetime, **fields: Any) -> dict[str, Any]:
    """Build an event with every schema field present (missing ones null)."""
    known = {f.name for f in SCHEMAS[event_type]}
    unknown = set(fields) - known
    if unknown:
        raise KeyError(f"{event_type} has no fields {sorted(unknown)}")
    event: dict[str, Any] = {
        "event_type": event_type,
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "event_time": iso_utc(event_time),
    }
    for field in SCHEMAS[event_type]:
        value = fields.get(field.name)
        if isinstance(value, datetime):
            value = iso_utc(value)
        elif isinstance(value, date):
            value = value.isoformat()
        event[field.name] = value
    return event


def validate(event: dict[str, Any]) -> list[str]:
    """Names of problems with an event's shape: unknown type, missing or mistyped fields."""
    event_type = event.get("event_type")
    if event_type not in SCHEMAS:
        return [f"unknown event_type {event_type!r}"]
    problems = []
    for field in fields_of(event_type):
        value = event.get(field.name)
        if value is None:
            if not field.nullable:
                problems.append(f"{field.name}: required")
            continue
        expected: dict[str, type | tuple[type, ...]] = {
            "string": str,
            "timestamp": str,
            "date": str,
            "int": int,
            "double": (int, float),
            "bool": bool,
        }
        if not isinstance(value, expected[field.type]) or (field.type in ("int", "double") and isinstance(value, bool)):
            problems.append(f"{field.name}: expected {field.type}, got {type(value).__name__}")
    if "mmsi" in event and event["mmsi"] is not None and normalise_mmsi(event["mmsi"]) != event["mmsi"]:
        problems.append("mmsi: not a 9-digit string")
    return problems


def spark_schema(event_type: str):
    """The Spark StructType of an event, for parsing Bronze JSON in Silver."""
    from pyspark.sql import types as T

    spark_types = {
        "string": T.StringType(),
        "int": T.LongType(),
        "double": T.DoubleType(),
        "bool": T.BooleanType(),
        "timestamp": T.TimestampType(),
        "date": T.DateType(),
    }
    return T.StructType(
        [T.StructField(f.name, spark_types[f.type], nullable=f.nullable) for f in fields_of(event_type)]
    )


def markdown() -> str:
    lines = [
        "# Event schemas",
        "",
        f"Generated from `include/maritimeiq/events.py` (schema version {SCHEMA_VERSION}); "
        "regenerate with `maritime schemas > docs/EVENTS.md`.",
        "",
        "Every event is one JSON object: the envelope fields, then the fields of its type. "
        'Times are UTC ISO 8601 (`2026-11-01T12:00:00.000Z`). AIS "not available" values '
        "(latitude 91, longitude 181, SOG 102.3, COG 360, heading 511, UTC second 60-63, ROT -128) "
        "are null.",
        "",
    ]
    for name, fields in [("envelope", ENVELOPE), *SCHEMAS.items()]:
        topic = TOPIC_OF.get(name)
        lines += [
            f"## `{name}`" + (f" → `{topic}`" if topic else ""),
            "",
            "| field | type | unit | required | notes |",
            "|---|---|---|---|---|",
        ]
        lines += [f"| `{f.name}` | {f.type} | {f.unit} | {'yes' if not f.nullable else ''} | {f.doc} |" for f in fields]
        lines.append("")
    return "\n".join(lines)
