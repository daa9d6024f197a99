from __future__ import annotations

import csv
import math

import pytest
from pyspark.testing import assertDataFrameEqual

from maritime_jobs import reference_ports
from maritimeiq import catalog
from tests.conftest import SHARED_DATA

COLUMNS = "unlocode string, name string, country_code string, latitude string, longitude string"


def test_transform_types_and_normalises_valid_rows(spark):
    raw = spark.createDataFrame([(" nlrtm ", " Rotterdam ", "nl", "51.9000", "4.4833")], COLUMNS)
    expected = spark.createDataFrame(
        [("NLRTM", "Rotterdam", "NL", 51.9, 4.4833, [])],
        "unlocode string, name string, country_code string, latitude double, longitude double, "
        "rule_violations array<string>",
    )
    assertDataFrameEqual(reference_ports.transform(raw), expected)


def test_transform_names_every_broken_rule(spark):
    raw = spark.createDataFrame(
        [
            ("NLRT", "Rotterdam", "NL", "51.9", "4.48"),  # 4-character LOCODE
            ("DEHAM", "", "NL", "91.0", "181.0"),  # wrong country, no name, out of range
            ("SGSIN", "Singapore", "SG", "north", None),  # unparsable and missing position
        ],
        COLUMNS,
    )
    violations = {r.unlocode: sorted(r.rule_violations) for r in reference_ports.transform(raw).collect()}
    assert violations == {
        "NLRT": ["unlocode_format"],
        "DEHAM": ["country_matches_locode", "latitude_range", "longitude_range", "name_present"],
        "SGSIN": ["latitude_range", "longitude_range"],
    }


def test_load_refuses_invalid_or_duplicate_rows(spark, tmp_path):
    bad = reference_ports.transform(spark.createDataFrame([("XXA", "Nowhere", "XX", "0", "0")], COLUMNS))
    with pytest.raises(reference_ports.InvalidReferenceData, match="XXA"):
        reference_ports.load(bad, str(tmp_path))
    twice = reference_ports.transform(
        spark.createDataFrame([("NLRTM", "Rotterdam", "NL", "51.9", "4.48")] * 2, COLUMNS)
    )
    with pytest.raises(reference_ports.InvalidReferenceData, match="duplicate"):
        reference_ports.load(twice, str(tmp_path))
    assert not (tmp_path / "ports").exists()


def test_missing_columns_are_reported(spark):
    with pytest.raises(reference_ports.InvalidReferenceData, match="latitude"):
        reference_ports.transform(spark.createDataFrame([("NLRTM", "Rotterdam")], "unlocode string, name string"))


def test_shipped_ports_load_and_rerun_gives_the_same_table(spark, tmp_path):
    lake, output = str(tmp_path), catalog.REFERENCE_PORTS.path(str(tmp_path))
    source = reference_ports.default_ports_csv()
    with open(source, newline="") as handle:
        expected_rows = sum(1 for _ in csv.DictReader(handle))

    first = reference_ports.load(reference_ports.transform(reference_ports.extract(spark, source)), lake)
    snapshot = spark.read.format("delta").load(output)
    first_rows = snapshot.collect()
    second = reference_ports.load(reference_ports.transform(reference_ports.extract(spark, source)), lake)

    assert first == second == expected_rows
    assertDataFrameEqual(spark.read.format("delta").load(output), first_rows)


def _haversine_km(lat1, lon1, lat2, lon2):
    # Great-circle distance on a sphere of mean Earth radius 6371.0088 km.
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


@pytest.mark.skipif(not (SHARED_DATA / "wpi-ports" / "ports.csv").exists(), reason="World Port Index not present")
def test_shipped_positions_agree_with_the_world_port_index():
    wpi = list(csv.DictReader(open(SHARED_DATA / "wpi-ports" / "ports.csv", newline="")))
    by_name: dict[str, list[tuple[float, float]]] = {}
    for row in wpi:
        by_name.setdefault(row["Main Port Name"].lower(), []).append((float(row["Latitude"]), float(row["Longitude"])))
    shipped = list(csv.DictReader(open(reference_ports.default_ports_csv(), newline="")))
    checked = 0
    for port in shipped:
        candidates = by_name.get(port["name"].lower())
        if not candidates:
            continue
        nearest = min(
            _haversine_km(float(port["latitude"]), float(port["longitude"]), lat, lon) for lat, lon in candidates
        )
        assert nearest < 15.0, f"{port['unlocode']} {port['name']} is {nearest:.1f} km from the WPI position"
        checked += 1
    assert checked >= 30, f"only {checked} shipped ports could be matched to the World Port Index"
