from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from maritimeiq.config import PROJECT_ROOT
from maritimeiq.events import SCHEMAS, TOPIC_OF, make_event, markdown, normalise_mmsi, spark_schema, validate


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("219000001", "219000001"),
        (2190047, "002190047"),
        ("2190047.0", "002190047"),
        (" 257123456 ", "257123456"),
        ("0", None),
        ("1234567890", None),
        ("21900A001", None),
        (None, None),
        ("", None),
        ("21900000²", None),
        ("٢١٩٠٠٠٠٠١", None),  # non-ASCII digits: not an MMSI, and no crash
    ],
)
def test_mmsi_is_a_nine_digit_string(raw, expected):
    assert normalise_mmsi(raw) == expected


def test_make_event_fills_every_field_and_writes_utc():
    local = datetime(2026, 11, 1, 13, 30, tzinfo=timezone(timedelta(hours=1)))
    event = make_event(
        "fuel_report",
        "test",
        local,
        mmsi="219000001",
        report_date=date(2026, 10, 31),
        fuel_type="HFO",
        fuel_consumed_t=12.5,
    )
    assert event["event_time"] == "2026-11-01T12:30:00.000Z"
    assert event["report_date"] == "2026-10-31"
    assert event["distance_nm"] is None and validate(event) == []
    with pytest.raises(KeyError, match="speed"):
        make_event("fuel_report", "test", local, speed=3)


def test_validate_names_each_problem():
    event = make_event("ais_position", "test", datetime(2026, 1, 1, tzinfo=UTC), mmsi="219000001", msg_type=1)
    assert validate(event) == []
    broken = {**event, "mmsi": "2190", "latitude": "north", "msg_type": None}
    assert sorted(validate(broken)) == [
        "latitude: expected double, got str",
        "mmsi: not a 9-digit string",
        "msg_type: required",
    ]
    assert validate({"event_type": "nope"}) == ["unknown event_type 'nope'"]


def test_every_schema_has_a_topic_and_a_spark_type():
    assert set(TOPIC_OF) == set(SCHEMAS)
    positions = spark_schema("ais_position")
    assert positions["mmsi"].dataType.simpleString() == "string" and not positions["mmsi"].nullable
    assert positions["event_time"].dataType.simpleString() == "timestamp"


def test_documentation_is_generated_from_the_schemas():
    assert (PROJECT_ROOT / "docs" / "EVENTS.md").read_text() == markdown(), "run `maritime schemas > docs/EVENTS.md`"
