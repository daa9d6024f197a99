from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from pyais.encode import encode_dict

from maritime_streaming.nmea import NmeaDecoder, nmea_checksum
from maritime_streaming.rejects import Reject
from tests import ais_reference as ref
from tests.conftest import SHARED_DATA

RECEIVED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
NMEA_FILES = {
    "dma": SHARED_DATA / "dma-aislib-stream" / "stream_example.txt",
    "kystverket": SHARED_DATA / "kystverket-aisnet" / "Ais1000Lines.nm4",
    "uscg": SHARED_DATA / "noaadata-uscg" / "test.ais",
    "pyais": SHARED_DATA / "pyais-sample" / "nmea_data_sample.txt",
}
needs_shared = pytest.mark.skipif(not SHARED_DATA.exists(), reason="shared data not present")


def decode_lines(lines, source="test"):
    decoder = NmeaDecoder(source)
    out = []
    for number, line in enumerate(lines, 1):
        out.extend(decoder.feed(line, RECEIVED, number))
    out.extend(decoder.flush())
    return decoder, [o for o in out if isinstance(o, dict)], [o for o in out if isinstance(o, Reject)]


def decode_file(path):
    with open(path, "rb") as handle:
        return decode_lines(list(handle))


def test_checksum_matches_a_hand_computed_value():
    # "AIVDM,1,1,,B,,0": XOR of those 15 characters is 0x25, as the sample line carries.
    assert nmea_checksum("AIVDM,1,1,,B,,0") == 0x25
    assert ref.xor_checksum("AIVDM,1,1,,B,,0") == 0x25


@needs_shared
@pytest.mark.parametrize("name", sorted(NMEA_FILES))
def test_real_feeds_decode_to_independently_counted_messages(name):
    path = NMEA_FILES[name]
    valid = ref.sentences(path)
    # MMSI 0 is no station: the decoder dead-letters those messages.
    expected = [b for b in ref.assembled_messages(valid) if ref.uint(b, 8, 30) != 0]
    expected_types = Counter(ref.uint(b, 0, 6) for b in expected)
    expected_mmsis = {f"{ref.uint(b, 8, 30):09d}" for b in expected}

    decoder, events, rejects = decode_file(path)

    assert decoder.counts["sentences"] == len(valid)
    # One event per message, except type 19 which gives a position and a static event.
    by_type = Counter(e["msg_type"] for e in events if not (e["event_type"] == "vessel_static" and e["msg_type"] == 19))
    assert by_type == expected_types
    assert {e["mmsi"] for e in events} == expected_mmsis
    assert all(r.reason for r in rejects)


@needs_shared
def test_known_position_report_fields_match_a_bit_level_decode():
    line = "!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C"
    expected = ref.position_report(ref.bits("13RlIW?04F1beOVEFLB9bRvH0L0L"))
    _, events, _ = decode_lines([line])
    event = events[0]
    assert event["mmsi"] == expected["mmsi"] == "237836700"
    assert event["sog_kn"] == expected["sog_kn"] == 27.8
    assert event["latitude"] == pytest.approx(expected["latitude"], abs=1e-6)
    assert event["longitude"] == pytest.approx(expected["longitude"], abs=1e-6)
    assert event["cog_deg"] == expected["cog_deg"] and event["heading_deg"] == expected["heading_deg"]
    assert event["utc_second"] == expected["utc_second"]
    assert event["ais_class"] == "A" and event["raw"] == line


@needs_shared
def test_static_and_voyage_data_of_a_two_sentence_type_5():
    with open(NMEA_FILES["uscg"]) as handle:
        lines = handle.read().splitlines()[3:5]  # the file's first type 5 pair
    _, events, rejects = decode_lines(lines)
    assert rejects == []
    (static,) = events
    # Fields by hand from the payload bits (ITU-R M.1371 type 5 layout).
    b = ref.bits("53:JiN02>=7T?@Pc:20hmb0p4I<Td6222222221@I0L?A5p10G0QCR@j" + "@H8888888888880", 2)
    assert static["mmsi"] == f"{ref.uint(b, 8, 30):09d}" == "212251000"
    assert static["imo"] == ref.uint(b, 40, 30) == 9319545
    assert static["ship_type"] == ref.uint(b, 232, 8) == 80
    assert (static["to_bow_m"], static["to_stern_m"]) == (ref.uint(b, 240, 9), ref.uint(b, 249, 9)) == (200, 28)
    assert (static["to_port_m"], static["to_starboard_m"]) == (ref.uint(b, 258, 6), ref.uint(b, 264, 6)) == (15, 17)
    assert static["length_m"] == 228.0 and static["beam_m"] == 32.0
    assert static["draught_m"] == ref.uint(b, 294, 8) / 10 == 9.2
    assert static["name"] == "LMZ NAFSIKA" and static["call_sign"] == "C4HJ2"
    assert static["destination"] == "BENICIA"
    # USCG receiver suffix: station and unix time 1152921692 = 2006-07-15T00:01:32Z.
    assert static["event_time"] == "2006-07-15T00:01:32.000Z"


@needs_shared
def test_gatehouse_header_stamps_the_following_sentence():
    _, events, _ = decode_file(NMEA_FILES["dma"])
    first = events[0]
    # $PGHP,1,2010,6,11,11,46,11,390,... precedes the file's first sentence.
    assert first["event_time"] == "2010-06-11T11:46:11.390Z"
    assert first["station"] == "992190934"


@needs_shared
def test_pyais_sample_empty_payloads_and_orphans_are_dead_letters():
    decoder, events, rejects = decode_file(NMEA_FILES["pyais"])
    reasons = Counter(r.reason for r in rejects)
    assert reasons == {"empty_payload": 100, "incomplete_group": 20}
    assert all(r.raw.startswith("!AIVDM") for r in rejects)
    assert decoder.counts["lines"] == 898 == len(events) + len(rejects) - decoder.counts["type_19"]


@needs_shared
def test_kystverket_tag_block_time_and_corrupt_group_tags():
    decoder, events, rejects = decode_file(NMEA_FILES["kystverket"])
    assert rejects == []
    assert decoder.counts["messages"] == 877 and decoder.counts["type_5"] == 123
    # 246 group tags were edited without a new tag checksum: those tags are not trusted.
    assert decoder.counts["tag_block_checksum_invalid"] == 246
    single = [e for e in events if "\\g:" not in e["raw"]]
    # The capture spans 2019-08-07 22:59:58 to 23:00:27 UTC (tag block c: times).
    assert len(single) == 877 - 123
    assert all("2019-08-07T22:59:58.000Z" <= e["event_time"] <= "2019-08-07T23:00:27.000Z" for e in single)
    assert all(e["event_time"] == "2026-11-01T12:00:00.000Z" for e in events if "\\g:" in e["raw"])


def _tag(content: str) -> str:
    return f"\\{content}*{nmea_checksum(content):02X}\\"


def test_tag_block_groups_reassemble_interleaved_fragments():
    part1 = "!AIVDM,2,1,4,B,53:JiN02>=7T?@Pc:20hmb0p4I<Td6222222221@I0L?A5p10G0QCR@j,0*56"
    part2 = "!AIVDM,2,2,4,B,@H8888888888880,2*2B"
    single = "!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C"
    lines = [
        _tag("g:1-2-77,s:r1,c:1700000000") + part1,
        _tag("s:r2,c:1700000001") + single,
        _tag("g:2-2-77,s:r1") + part2,
    ]
    _, events, rejects = decode_lines(lines)
    assert rejects == []
    static = next(e for e in events if e["event_type"] == "vessel_static")
    position = next(e for e in events if e["event_type"] == "ais_position")
    assert static["mmsi"] == "212251000" and static["event_time"] == "2023-11-14T22:13:20.000Z"
    assert static["raw"].count("\n") == 1
    assert position["station"] == "r2" and position["event_time"] == "2023-11-14T22:13:21.000Z"


def test_not_available_sentinels_become_null():
    sentence = encode_dict(
        {
            "msg_type": 1,
            "mmsi": 219000001,
            "lat": 91,
            "lon": 181,
            "speed": 102.3,
            "course": 360,
            "heading": 511,
            "second": 60,
            "turn": -128,
        }
    )[0]
    _, (event,), _ = decode_lines([sentence])
    for name in ("latitude", "longitude", "sog_kn", "cog_deg", "heading_deg", "utc_second", "rot_deg_min"):
        assert event[name] is None, name
    assert event["mmsi"] == "219000001"


def test_nine_digit_mmsi_keeps_leading_zeros():
    sentence = encode_dict({"msg_type": 1, "mmsi": 2190047, "lat": 55.5, "lon": 12.5, "speed": 5.0})[0]
    _, (event,), _ = decode_lines([sentence])
    assert event["mmsi"] == "002190047"
    assert event["latitude"] == pytest.approx(55.5) and event["sog_kn"] == 5.0


def test_hostile_lines_become_rejects_without_stopping_the_decoder():
    good = "!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C"
    hostile = [
        b"\x00\xff\xfe garbage \x80",
        "!AIVDM," + "A" * 2_000_000,
        "!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6D",  # checksum off by one
        "!AIVDM,9,1,,A,13RlIW,0*00",
        "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
        "!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0",
        "\\c:1700000000*00\\",
        "'; DROP TABLE ais_positions; --",
    ]
    decoder, events, rejects = decode_lines([*hostile, good])
    assert len(events) == 1 and events[0]["mmsi"] == "237836700"
    assert len(rejects) == len(hostile)
    assert {r.reason for r in rejects} >= {"not_ascii", "line_too_long", "bad_checksum", "malformed_sentence"}
    assert all(len(r.raw) <= 2000 for r in rejects)


# -- tag-block groups with the station and time on the first sentence only -------------------
# A type 1 report split over two sentences (any message may be), and a type 5 pair.
POSITION_PARTS = ("!AIVDM,2,1,7,A,13RlIW?04F1beO,0", "!AIVDM,2,2,7,A,VEFLB9bRvH0L0L,0")
STATIC_PARTS = (
    "!AIVDM,2,1,4,B,53:JiN02>=7T?@Pc:20hmb0p4I<Td6222222221@I0L?A5p10G0QCR@j,0",
    "!AIVDM,2,2,4,B,@H8888888888880,2",
)


def _sentence(body: str) -> str:
    return f"{body}*{nmea_checksum(body[1:]):02X}"


def test_group_inherits_station_and_time_from_its_first_sentence():
    # Kystverket, ORBCOMM and IMIS send s: and c: on the first sentence of a group only.
    lines = [
        _tag("g:1-2-8055,s:99,c:1700000000") + _sentence(POSITION_PARTS[0]),
        _tag("g:2-2-8055") + _sentence(POSITION_PARTS[1]),
        _tag("g:1-2-8056,s:99,c:1700000001") + _sentence(STATIC_PARTS[0]),
        _tag("g:2-2-8056") + _sentence(STATIC_PARTS[1]),
    ]
    _, events, rejects = decode_lines(lines)
    assert rejects == []
    position, static = events
    # The single-sentence form of the same report decodes to MMSI 237836700 at 27.8 kn.
    assert (position["mmsi"], position["sog_kn"], position["station"]) == ("237836700", 27.8, "99")
    assert position["event_time"] == "2023-11-14T22:13:20.000Z"  # c:1700000000
    assert static["mmsi"] == "212251000" and static["event_time"] == "2023-11-14T22:13:21.000Z"
    assert position["raw"] == "\n".join(lines[:2])


def test_stationless_continuations_find_their_group_among_stations():
    p1, p2 = (_sentence(p) for p in POSITION_PARTS)
    s1, s2 = (_sentence(p) for p in STATIC_PARTS)
    lines = [
        _tag("g:1-2-5,s:A,c:1700000000") + s1,  # station A opens group 5 (two sentences)
        _tag("g:1-2-6,s:B,c:1700000010") + p1,  # station B opens group 6
        _tag("g:2-2-6") + p2,  # no station: the open group 6, B's
        _tag("g:2-2-5") + s2,  # no station: the open group 5, A's
        _tag("g:2-2-9") + p2,  # group 9 was never opened
    ]
    _, events, rejects = decode_lines(lines)
    assert [(e["event_type"], e["event_time"]) for e in events] == [
        ("ais_position", "2023-11-14T22:13:30.000Z"),
        ("vessel_static", "2023-11-14T22:13:20.000Z"),
    ]
    assert events[0]["station"] == "B"
    assert [(r.reason, r.line_number) for r in rejects] == [("orphan_fragment", 5)]


def test_one_group_id_at_two_stations_goes_to_the_group_expecting_the_sentence():
    three = [
        _sentence(f"!AIVDM,3,{n},1,A,{chunk},0") for n, chunk in enumerate(("13RlIW?04F", "1beOVEFLB9", "bRvH0L0L"), 1)
    ]
    lines = [
        _tag("g:1-3-5,s:A,c:1700000000") + three[0],
        _tag("g:1-2-5,s:B,c:1700000050") + _sentence(STATIC_PARTS[0]),
        _tag("g:2-3-5") + three[1],  # only A's group expects a 2 of 3
        _tag("g:2-2-5") + _sentence(STATIC_PARTS[1]),  # only B's expects a 2 of 2
        _tag("g:3-3-5") + three[2],
    ]
    _, events, rejects = decode_lines(lines)
    assert rejects == []
    assert {(e["event_type"], e["event_time"]) for e in events} == {
        ("ais_position", "2023-11-14T22:13:20.000Z"),
        ("vessel_static", "2023-11-14T22:14:10.000Z"),
    }


def test_a_lone_first_sentence_is_still_an_incomplete_group():
    _, events, rejects = decode_lines([_tag("g:1-2-8055,s:99,c:1700000000") + _sentence(POSITION_PARTS[0])])
    assert events == [] and [r.reason for r in rejects] == ["incomplete_group"]


# -- receive-time prefixes written by loggers -------------------------------------------------
SINGLE = "!AIVDM,1,1,,A,13RlIW?04F1beOVEFLB9bRvH0L0L,0*6C"


@pytest.mark.parametrize(
    "prefix, expected",
    [
        ("1700000000", "2023-11-14T22:13:20.000Z"),  # epoch seconds (10 digits)
        ("1700000000.250", "2023-11-14T22:13:20.250Z"),  # seconds with a fraction
        ("1700000000250", "2023-11-14T22:13:20.250Z"),  # milliseconds (13 digits)
        ("1700000000250000", "2023-11-14T22:13:20.250Z"),  # microseconds (16 digits)
        ("1550303566167726840", "2019-02-16T07:52:46.167Z"),  # nanoseconds (19 digits)
        ("2023-11-14T22:13:20Z", "2023-11-14T22:13:20.000Z"),
        ("2023-11-14T23:13:20.5+01:00", "2023-11-14T22:13:20.500Z"),
        ("2023-11-14 22:13:20.123456789", "2023-11-14T22:13:20.123Z"),  # no offset: UTC
    ],
)
def test_receive_time_prefix_is_the_event_time(prefix, expected):
    line = f"{prefix} {SINGLE}"
    _, (event,), rejects = decode_lines([line])
    assert rejects == []
    assert event["event_time"] == expected and event["mmsi"] == "237836700" and event["raw"] == line


@pytest.mark.parametrize(
    "prefix",
    [
        "garbage",
        "1900-01-01T00:00:00Z",
        "2300-01-01T00:00:00Z",
        "-1700000000",
        "0",
        "1e9",
        "NaN",
        "99999999999",
        "2023-13-01T00:00:00Z",
        "2026-11-03T00:00:00Z",
    ],
)  # two days after the line was read
def test_implausible_prefix_is_a_bad_timestamp(prefix):
    line = f"{prefix}\t{SINGLE}"
    _, events, rejects = decode_lines([line])
    assert events == []
    (reject,) = rejects
    assert reject.reason == "bad_timestamp" and reject.raw == line and reject.line_number == 1
    assert repr(prefix) in reject.detail


def test_prefix_on_tag_blocks_groups_gatehouse_and_uscg_lines():
    lines = [
        # The tag block's c: is the station's own stamp: it wins over the logger's.
        "1700000100 " + _tag("c:1700000000") + SINGLE,
        # A two-sentence message takes the time of its first line.
        "1700000200.5 " + _sentence(STATIC_PARTS[0]),
        "1700000201.5 " + _sentence(STATIC_PARTS[1]),
        # The logger's prefix wins over the USCG receiver's suffix time.
        "1700000300 " + SINGLE + ",r003669987,1152921693",
        # A prefixed $PGHP header still stamps the following sentence.
        "1700000400 $PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,1,2B*5B",
        "1700000401 " + SINGLE,
    ]
    _, events, rejects = decode_lines(lines)
    assert rejects == []
    assert [(e["event_time"], e["station"] if e["event_type"] == "ais_position" else None) for e in events] == [
        ("2023-11-14T22:13:20.000Z", None),
        ("2023-11-14T22:16:40.500Z", None),
        ("2023-11-14T22:18:20.000Z", "r003669987"),
        ("2010-06-11T11:46:11.390Z", "992190934"),
    ]
