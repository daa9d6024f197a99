"""SASL login settings of Java Kafka clients (Spark's Kafka source and the Kafka tools)."""

from __future__ import annotations

SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"


def jaas(username: str, password: str, module: str = SCRAM_MODULE) -> str:
    """``sasl.jaas.config`` of a Java client; JAAS quoting escapes backslash and double quote."""

    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return f"{module} required username={quoted(username)} password={quoted(password)};"
