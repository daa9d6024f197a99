from __future__ import annotations

from maritimeiq import catalog
from maritimeiq.config import load_config
from maritimeiq.health import freshness_tables, monitored_topics


def test_lag_covers_every_topic_the_bronze_worker_lands():
    assert monitored_topics(load_config(environ={}).kafka) == list(catalog.TOPICS)


def test_freshness_judges_the_steady_source_topics_only():
    tables = freshness_tables(load_config(environ={}).kafka)
    assert tables == [catalog.BRONZE_AIS_DATA, catalog.BRONZE_ENVIRONMENTAL_SENSORS, catalog.BRONZE_VOYAGE_EVENTS]
