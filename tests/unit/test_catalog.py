from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from airflow.sdk import Asset

from maritime_jobs.delta_maintenance import maintenance_plan
from maritimeiq import assets, catalog
from maritimeiq.config import PROJECT_ROOT, KafkaConfig, load_config
from maritimeiq.events import TOPIC_OF

# Code that reads or writes the lake; tests and docs may spell paths out.
CODE_DIRS = ("include", "spark_jobs", "streaming", "stack", "dags", "bench")
LAYER_IN_PATH = re.compile(r"/(?:{})(?:/|$)".format("|".join(catalog.LAYERS)))


def hand_built_lake_paths(source: str) -> list[tuple[int, str]]:
    """Lines that derive a lake path outside the catalog: a `table_path(...)` call, an
    f-string with a `/<layer>/` segment, or `<path> / "<layer>"`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "table_path":
                found.append((node.lineno, "table_path(...)"))
        elif isinstance(node, ast.JoinedStr):
            literal = "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
            if LAYER_IN_PATH.search(literal):
                found.append((node.lineno, f"f-string {literal!r}"))
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Div)
            and isinstance(node.right, ast.Constant)
            and node.right.value in catalog.LAYERS
        ):
            found.append((node.lineno, f'/ "{node.right.value}"'))
    return sorted(found)


def test_the_detector_sees_each_way_of_building_a_path_by_hand():
    assert [
        what
        for _, what in hand_built_lake_paths(
            'a = config.lake.table_path("silver", "x")\n'
            'b = f"{root}/gold/{name}"\n'
            'c = f"{root}/silver"\n'
            'd = Path(root) / "bronze"\n'
            'e = checkpoint_path(f"bronze/{name}")\n'
            'f = "silver/ais_positions"\n'
        )
    ] == ["table_path(...)", "f-string '{}/gold/{}'", "f-string '{}/silver'", '/ "bronze"']


def test_no_code_outside_the_catalog_builds_a_lake_path():
    """Every path a job, worker, DAG or benchmark reads or writes comes from a catalog entry."""
    offenders = []
    for directory in CODE_DIRS:
        for path in sorted((PROJECT_ROOT / directory).rglob("*.py")):
            if path == Path(catalog.__file__):
                continue
            offenders += [
                f"{path.relative_to(PROJECT_ROOT)}:{line}: {what}"
                for line, what in hand_built_lake_paths(path.read_text())
            ]
    assert offenders == []


def test_every_catalog_table_is_in_the_maintenance_plan():
    assert [table.key for table in maintenance_plan({})] == [table.key for table in catalog.TABLES]


def test_windowed_optimize_filters_on_a_date_partition():
    """`recent_days` compares the first partition column with a DATE: it must be one."""
    for table in catalog.TABLES:
        if table.partition_by and table.recent_days is not None:
            assert table.partition_by[0] == "date" or table.partition_by[0].endswith("_date"), table.key


def test_tables_are_unique_and_in_layer_order():
    keys = [table.key for table in catalog.TABLES]
    assert len(keys) == len(set(keys))
    layers = [catalog.LAYERS.index(table.layer) for table in catalog.TABLES]
    assert layers == sorted(layers)


def test_every_configured_topic_and_its_dead_letter_topic_land_in_a_catalog_table():
    kafka = load_config(environ={}).kafka
    names = [spec.name for spec in kafka.all_topics()]
    assert names == list(catalog.TOPICS)
    assert set(catalog.DEAD_LETTER_TOPICS) == {catalog.dead_letter_topic(t) for t in kafka.topics}
    landed = [catalog.bronze_table(name) for name in names]
    assert all(table in catalog.TABLES and table.source_topic == name for table, name in zip(landed, names))
    assert sorted(t.key for t in landed) == sorted(t.key for t in catalog.TABLES if t.layer == "bronze")


def test_bronze_table_names_follow_topics():
    assert catalog.bronze_table("maritime.ais.data") is catalog.BRONZE_AIS_DATA
    assert catalog.bronze_table("maritime.ais.data.dlq").key == "bronze/maritime_ais_data_dlq"
    # A topic outside the catalog (a test's own) lands the same way.
    assert catalog.bronze_table("test-7f.ais").path("/lake/") == "/lake/bronze/test_7f_ais"


def test_event_types_travel_on_catalog_topics():
    assert set(TOPIC_OF.values()) <= set(catalog.SOURCE_TOPICS)


def test_config_topics_must_be_the_catalog_topics():
    with pytest.raises(ValueError, match=r"maritime\.ais\.dat'\] are not topics of the catalog"):
        KafkaConfig.model_validate({"bootstrap_servers": "x:9092", "topics": {"maritime.ais.dat": {"partitions": 1}}})
    with pytest.raises(ValueError, match=r"no settings for the catalog topics \['maritime\.alerts'\]"):
        KafkaConfig.model_validate(
            {
                "bootstrap_servers": "x:9092",
                "topics": {t: {"partitions": 1} for t in catalog.SOURCE_TOPICS if t != catalog.ALERTS_TOPIC},
            }
        )


def test_table_assets_are_catalog_entries():
    table_assets = {
        name: value
        for name, value in vars(assets).items()
        if isinstance(value, Asset) and not name.startswith("MODEL_")
    }
    assert table_assets
    for name, asset in table_assets.items():
        table = getattr(catalog, name)
        assert (asset.name, asset.uri) == (table.asset_name, table.asset_uri)
    assert assets.SILVER_AIS_POSITIONS.name == "maritime.silver.ais_positions"
    assert assets.SILVER_AIS_POSITIONS.uri == "maritime://lake/silver/ais_positions"


def test_table_lookup_names_a_missing_key():
    assert catalog.table("gold/cii_ratings") is catalog.GOLD_CII_RATINGS
    with pytest.raises(KeyError, match="'gold/cii_rating' is not a table of the lake catalog"):
        catalog.table("gold/cii_rating")


def test_unknown_tables_lists_delta_tables_the_catalog_lacks(tmp_path):
    for table in ("silver/ais_positions", "gold/cii_ratings", "gold/scratch", "ops/old_log"):
        (tmp_path / table / "_delta_log").mkdir(parents=True)
    (tmp_path / "gold" / "cii_ratings" / "year=2026").mkdir()  # partition directories are not tables
    (tmp_path / "reports").mkdir()  # nor is anything without a Delta log
    assert catalog.unknown_tables(tmp_path) == ["gold/scratch", "ops/old_log"]
    assert catalog.unknown_tables(tmp_path / "missing") == []
