"""Streaming layer: AIS and sensor producers to Kafka, Kafka-to-Bronze workers."""
