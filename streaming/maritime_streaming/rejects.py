"""Rejected input: what could not become a canonical event, with the reason why.

Rejects go to the dead-letter topic of the source topic with the raw input intact, so
nothing a source delivered is ever lost.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Reason codes, stable: dashboards and the Silver quarantine count by them.
BAD_CHECKSUM = "bad_checksum"
NOT_ASCII = "not_ascii"
MALFORMED_SENTENCE = "malformed_sentence"
UNSUPPORTED_SENTENCE = "unsupported_sentence"
EMPTY_PAYLOAD = "empty_payload"
ORPHAN_FRAGMENT = "orphan_fragment"
INCOMPLETE_GROUP = "incomplete_group"
DECODE_ERROR = "decode_error"
LINE_TOO_LONG = "line_too_long"
BAD_CSV_ROW = "bad_csv_row"
BAD_MMSI = "bad_mmsi"
BAD_TIMESTAMP = "bad_timestamp"
CORRUPT_RECORD = "corrupt_record"
MESSAGE_TOO_LARGE = "message_too_large"  # above Kafka's message size limit


@dataclass(frozen=True)
class Reject:
    reason: str
    raw: str
    source: str
    detail: str = ""
    line_number: int | None = None

    def as_record(self) -> dict[str, Any]:
        return {"reject": True, **asdict(self)}
