from __future__ import annotations

import csv
import io

import pytest

from maritime_streaming.csv_sources import CsvDecoder
from maritime_streaming.rejects import Reject
from tests.conftest import SHARED_DATA

DMA = SHARED_DATA / "dma-aisdk-sample" / "aisdk_header.csv"
NOAA = SHARED_DATA / "noaa-aisdb-sample" / "test_data_noaa_20230101.csv"
NY = SHARED_DATA / "noaa-nyharbor-tracktable" / "NYHarbor_2020_06_30_first_hour.csv"
needs_shared = pytest.mark.skipif(not SHARED_DATA.exists(), reason="shared data not present")


def run(fmt, text_or_path):
    decoder = CsvDecoder(fmt)
    if isinstance(text_or_path, str):
        out = list(decoder.decode(io.StringIO(text_or_path)))
    else:
        with open(text_or_path, newline="") as handle:
            out = list(decoder.decode(handle))
    return decoder, [o for o in out if isinstance(o, dict)], [o for o in out if isinstance(o, Reject)]


@needs_shared
def test_dma_export_maps_every_row_and_nulls_sentinels():
    with open(DMA, newline="") as handle:
        rows = list(csv.DictReader(handle))
    _, events, rejects = run("dma", DMA)
    positions = [e for e in events if e["event_type"] == "ais_position"]
    assert rejects == [] and len(positions) == len(rows)
    sentinel_rows = [r for r in rows if r["Latitude"].startswith("91")]
    assert sentinel_rows, "the sample carries lat 91 / lon 181 rows"
    for row, event in zip(rows, positions):
        assert event["mmsi"] == row["MMSI"].zfill(9)
        if row["Latitude"].startswith("91"):
            assert event["latitude"] is None and event["longitude"] is None
        else:
            assert event["latitude"] == float(row["Latitude"])
    first = positions[0]
    assert first["event_time"] == "2018-06-01T00:00:00.000Z"
    assert (first["sog_kn"], first["cog_deg"], first["heading_deg"]) == (12.5, 255.5, 256)
    assert first["nav_status"] == 4  # "Constrained by her draught"
    assert first["ais_class"] == "A"


@needs_shared
def test_noaa_export_row_maps_field_by_field():
    _, events, rejects = run("noaa", NOAA)
    assert rejects == []
    # 636021061,2023-01-11T00:00:00,26.09241,-80.04806,8.8,272.7,270.0,MSC NAISHA III,IMO9307839,5LCB4,70,8.0,208.0,30.0,8.0,70.0,A
    position = next(e for e in events if e["mmsi"] == "636021061" and e["event_type"] == "ais_position")
    static = next(e for e in events if e["mmsi"] == "636021061" and e["event_type"] == "vessel_static")
    assert position["event_time"] == "2023-01-11T00:00:00.000Z"
    assert (position["latitude"], position["longitude"], position["sog_kn"]) == (26.09241, -80.04806, 8.8)
    assert (position["cog_deg"], position["heading_deg"], position["nav_status"]) == (272.7, 270, 8)
    assert static["imo"] == 9307839 and static["name"] == "MSC NAISHA III" and static["call_sign"] == "5LCB4"
    assert (static["ship_type"], static["length_m"], static["beam_m"], static["draught_m"]) == (70, 208.0, 30.0, 8.0)
    # COG 360 and heading 511 are "not available".
    first = next(e for e in events if e["mmsi"] == "367752440" and e["event_type"] == "ais_position")
    assert first["cog_deg"] is None and first["heading_deg"] == 95


@needs_shared
def test_static_data_is_emitted_when_it_changes_not_per_row():
    with open(NY, newline="") as handle:
        rows = list(csv.DictReader(handle))
    _, events, _ = run("noaa", NY)
    positions = [e for e in events if e["event_type"] == "ais_position"]
    statics = [e for e in events if e["event_type"] == "vessel_static"]
    assert len(positions) == len(rows) == 8689
    assert len({r["MMSI"] for r in rows}) == 295
    assert len(statics) < len(positions) / 10
    heading_na = sum(1 for r in rows if r["Heading"] == "511.0")
    assert sum(1 for e in positions if e["heading_deg"] is None) >= heading_na > 0


def test_bad_rows_are_rejected_with_reasons_and_the_rest_goes_on():
    text = (
        "MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,VesselName,IMO,CallSign,VesselType,Status,Length,Width,Draft,Cargo,TransceiverClass\n"
        "367752440,2023-01-11T00:00:00,43.07917,-70.75733,0.0,360.0,95.0,SAN JOSE,,WDI9818,31,0.0,,,,52.0,A\n"
        "NOT-AN-MMSI,2023-01-11T00:00:00,43.0,-70.7,0.0,1.0,95.0,X,,Y,31,0.0,,,,52.0,A\n"
        "367752440,yesterday,43.0,-70.7,0.0,1.0,95.0,X,,Y,31,0.0,,,,52.0,A\n"
        "367752440,2023-01-11T00:01:00,43.0\n"
        "367752440,2023-01-11T00:02:00,91,181,102.3,360,511,SAN JOSE,,WDI9818,31,0.0,,,,52.0,A\n"
    )
    decoder, events, rejects = run("noaa", text)
    assert [r.reason for r in rejects] == ["bad_mmsi", "bad_timestamp", "bad_csv_row"]
    assert [r.line_number for r in rejects] == [3, 4, 5]
    last = [e for e in events if e["event_type"] == "ais_position"][-1]
    assert all(last[k] is None for k in ("latitude", "longitude", "sog_kn", "cog_deg", "heading_deg"))
    assert decoder.counts["rows"] == 5


def test_a_file_of_another_format_is_refused_clearly():
    with pytest.raises(ValueError, match="not a dma export"):
        run("dma", "MMSI,BaseDateTime,LAT,LON\n1,2,3,4\n")
