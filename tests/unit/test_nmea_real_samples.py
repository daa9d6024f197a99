"""The annotated real AIS samples in the shared data directory, decoded end to end.

* Regression: counts and a digest of every event and reject, pinned from the decoder as
  it stood before receive-time prefixes and first-sentence-only tag groups were added, so
  any change to what these files decode to fails here.
* Independent check: every position report (types 1, 2, 3, 18) is decoded again from its
  raw sentences by the small 6-bit reader below and compared field by field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from maritime_streaming.nmea import NmeaDecoder, nmea_checksum
from maritime_streaming.rejects import Reject
from tests.conftest import SHARED_DATA

RECEIVED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
FILES = {
    "dma": "dma-aislib-stream/stream_example.txt",
    "kystverket": "kystverket-aisnet/Ais1000Lines.nm4",
    "uscg": "noaadata-uscg/test.ais",
    "pyais": "pyais-sample/nmea_data_sample.txt",
}
pytestmark = pytest.mark.skipif(not SHARED_DATA.exists(), reason="shared data not present")

# Snapshot of the decoder's output on each file (source "nmea:file", read at RECEIVED).
PINNED = {
    "dma": {
        "digest": "0c76d0a5fe67ada4368c9f5098e6783c39b592da59524113cda21777ccae9a0d",  # pragma: allowlist secret (SHA-256 of decoded output)
        "events": {"ais_other": 565, "ais_position": 2987, "vessel_static": 497},
        "rejects": {"bad_mmsi": 2},
        "counts": {
            "lines": 8551,
            "messages": 4049,
            "pghp": 4051,
            "reject_bad_mmsi": 2,
            "sentences": 4500,
            "type_1": 2510,
            "type_15": 66,
            "type_16": 23,
            "type_17": 5,
            "type_18": 101,
            "type_2": 7,
            "type_20": 191,
            "type_21": 37,
            "type_23": 4,
            "type_24": 74,
            "type_3": 369,
            "type_4": 129,
            "type_5": 423,
            "type_6": 37,
            "type_7": 9,
            "type_8": 63,
            "type_9": 1,
        },
    },
    "kystverket": {
        "digest": "f1c08359f48f3934afa0d0f21fd7f63696873e3bdf51c2332c40e3b81ed381ba",  # pragma: allowlist secret (SHA-256 of decoded output)
        "events": {"ais_position": 748, "vessel_static": 129},
        "rejects": {},
        "counts": {
            "lines": 1000,
            "messages": 877,
            "sentences": 1000,
            "tag_block_checksum_invalid": 246,
            "type_1": 621,
            "type_18": 12,
            "type_24": 6,
            "type_3": 115,
            "type_5": 123,
        },
    },
    "uscg": {
        "digest": "a3f54cf736008a300ac59aa8720a49239dc324ff0ab8443221f2766b57e4a4c8",  # pragma: allowlist secret (SHA-256 of decoded output)
        "events": {"ais_other": 49, "ais_position": 673, "vessel_static": 131},
        "rejects": {"unsupported_sentence": 15},
        "counts": {
            "lines": 1001,
            "messages": 853,
            "reject_unsupported_sentence": 15,
            "sentences": 985,
            "skipped": 1,
            "type_1": 569,
            "type_15": 11,
            "type_20": 16,
            "type_3": 104,
            "type_4": 21,
            "type_5": 131,
            "type_8": 1,
        },
    },
    "pyais": {
        "digest": "36d0a10cb6f3cf7eadfb59533aa08ec648b216bfe74148c6f97d7fc0179670a8",  # pragma: allowlist secret (SHA-256 of decoded output)
        "events": {"ais_other": 14, "ais_position": 762, "vessel_static": 2},
        "rejects": {"empty_payload": 100, "incomplete_group": 20},
        "counts": {
            "lines": 898,
            "messages": 778,
            "reject_empty_payload": 100,
            "reject_incomplete_group": 20,
            "sentences": 898,
            "type_1": 667,
            "type_15": 7,
            "type_18": 19,
            "type_20": 1,
            "type_24": 2,
            "type_3": 76,
            "type_4": 6,
        },
    },
}


def decode(lines):
    decoder = NmeaDecoder("nmea:file")
    out = []
    for number, line in enumerate(lines, 1):
        out.extend(decoder.feed(line, RECEIVED, number))
    out.extend(decoder.flush())
    return decoder, out


def read_lines(name):
    with open(SHARED_DATA / FILES[name], "rb") as handle:
        return list(handle)


@pytest.mark.parametrize("name", sorted(FILES))
def test_real_sample_decodes_exactly_as_pinned(name):
    decoder, out = decode(read_lines(name))
    events = [o for o in out if isinstance(o, dict)]
    found = [o for o in out if isinstance(o, Reject)]
    assert dict(decoder.counts) == PINNED[name]["counts"]
    assert Counter(e["event_type"] for e in events) == PINNED[name]["events"]
    assert Counter(r.reason for r in found) == PINNED[name]["rejects"]
    records = [json.dumps(o.as_record() if isinstance(o, Reject) else o, sort_keys=True) for o in out]
    assert hashlib.sha256("\n".join(records).encode()).hexdigest() == PINNED[name]["digest"]


# -- an independent 6-bit reader (ITU-R M.1371 Annex 8; no platform or pyais code) ---------------
VDM = re.compile(
    r"!(?P<body>[A-Z]{2}VD[MO],\d,\d,\d?,[AB12]?,(?P<payload>[0-9:;<=>?@A-W`a-w]*),(?P<fill>[0-5]))"
    r"\*(?P<cs>[0-9A-F]{2})"
)


def payload_bits(raw: str) -> str:
    """The message bits of an event's raw text: its sentences' payloads joined, fill bits cut."""
    sentences = [m for m in VDM.finditer(raw) if int(m["cs"], 16) == nmea_checksum(m["body"])]
    assert sentences and len(sentences) == raw.count("\n") + 1, raw
    bits = "".join(format(ord(c) - 48 - (8 if ord(c) - 48 > 40 else 0), "06b") for m in sentences for c in m["payload"])
    fill = int(sentences[-1]["fill"])
    return bits[: len(bits) - fill] if fill else bits


def field(bits: str, start: int, length: int, signed: bool = False) -> int:
    value = int(bits[start : start + length], 2)
    return value - (1 << length) if signed and bits[start] == "1" else value


def reference_position(bits: str) -> dict:
    """Types 1-3 and 18 by bit offset; sentinels: lon 181, lat 91, SOG 102.3, COG 360, heading 511."""
    kind = field(bits, 0, 6)
    # Type 18 has 8 reserved bits where types 1-3 carry status and ROT: 4 bits fewer before SOG.
    shift = 4 if kind == 18 else 0
    sog, lon, lat = field(bits, 50 - shift, 10), field(bits, 61 - shift, 28, True), field(bits, 89 - shift, 27, True)
    cog, heading = field(bits, 116 - shift, 12), field(bits, 128 - shift, 9)
    return {
        "msg_type": kind,
        "mmsi": f"{field(bits, 8, 30):09d}",
        "longitude": None if lon == 181 * 600000 else lon / 600000,
        "latitude": None if lat == 91 * 600000 else lat / 600000,
        "sog_kn": None if sog == 1023 else sog / 10,
        "cog_deg": None if cog == 3600 else cog / 10,
        "heading_deg": None if heading == 511 else heading,
    }


def test_reference_reader_on_a_hand_decoded_report():
    # The type 1 sentence worked by hand in gpsd's "AIVDM/AIVDO protocol decoding" guide.
    bits = payload_bits("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A")
    assert len(bits) == 168
    assert reference_position(bits) == {
        "msg_type": 1,
        "mmsi": "371798000",
        "latitude": pytest.approx(48.381633, abs=1e-6),
        "longitude": pytest.approx(-123.395383, abs=1e-6),
        "sog_kn": 12.3,
        "cog_deg": 224.0,
        "heading_deg": 215,
    }


def test_reference_reader_maps_the_not_available_values():
    # Type 18 with lon 181, lat 91, SOG 1023, COG 3600, heading 511, packed by hand.
    bits = (
        f"{18:06b}"
        + "00"
        + f"{219000001:030b}"
        + "0" * 8
        + f"{1023:010b}"
        + "0"
        + f"{181 * 600000:028b}"
        + f"{91 * 600000:027b}"
        + f"{3600:012b}"
        + f"{511:09b}"
        + "0" * 35
    )
    assert len(bits) == 168
    chars = "".join(chr(v + 48 if v < 40 else v + 56) for v in (int(bits[i : i + 6], 2) for i in range(0, 168, 6)))
    body = f"AIVDM,1,1,,B,{chars},0"
    assert reference_position(payload_bits(f"!{body}*{nmea_checksum(body):02X}")) == {
        "msg_type": 18,
        "mmsi": "219000001",
        "latitude": None,
        "longitude": None,
        "sog_kn": None,
        "cog_deg": None,
        "heading_deg": None,
    }


EXACT = ("msg_type", "mmsi", "heading_deg")


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_position_matches_the_independent_reader(name):
    _, out = decode(read_lines(name))
    positions = [
        e for e in out if isinstance(e, dict) and e["event_type"] == "ais_position" and e["msg_type"] in (1, 2, 3, 18)
    ]
    # Every type 1-3 and 18 message of the file is compared (one position event each).
    assert len(positions) == sum(PINNED[name]["counts"].get(f"type_{t}", 0) for t in (1, 2, 3, 18)) > 0
    mismatches = []
    for event in positions:
        for key, want in reference_position(payload_bits(event["raw"])).items():
            got = event[key]
            if want is None or key in EXACT:
                same = got == want
            else:  # scaled values: the platform's floats may be rounded to 1e-6 degree
                same = got is not None and abs(got - want) <= 1e-6
            if not same:
                mismatches.append((event["raw"], key, got, want))
    assert mismatches == []


def test_kystverket_sample_in_the_live_feed_form_keeps_every_message():
    # The sample's 246 group tags were edited without a new checksum and its station tags
    # removed. Put in the live feed's form - checksums right, `s:` and `c:` on a group's first
    # sentence only - the same 877 messages decode, with the first sentence's station and time.
    tag = re.compile(r"\\(?P<tag>[^*\\]*)\*[0-9A-F]{2}\\(?P<rest>.*)", re.S)
    lines = []
    for raw in read_lines("kystverket"):
        match = tag.fullmatch(raw.decode("ascii").rstrip("\r\n"))
        items = match["tag"].split(",")
        if any(i.startswith("g:2-") for i in items):
            items = [i for i in items if not i.startswith("c:")]
        else:
            items.append("s:2573135")  # a Kystverket base station
        content = ",".join(items)
        lines.append(f"\\{content}*{nmea_checksum(content):02X}\\{match['rest']}")
    assert sum(1 for line in lines if "c:" not in line and "s:" not in line) == 123
    decoder, out = decode(lines)
    _, before = decode(read_lines("kystverket"))
    assert not any(isinstance(o, Reject) for o in out)
    assert decoder.counts["messages"] == 877 and decoder.counts["tag_block_checksum_invalid"] == 0

    def fields(event):
        return {k: v for k, v in event.items() if k not in ("event_time", "raw", "station")}

    assert [fields(e) for e in out] == [fields(e) for e in before]
    assert {e["station"] for e in out if e["event_type"] == "ais_position"} == {"2573135"}
    # The capture spans 2019-08-07 22:59:58 to 23:00:27 UTC (tag block c: times).
    assert all("2019-08-07T22:59:58.000Z" <= e["event_time"] <= "2019-08-07T23:00:27.000Z" for e in out)
