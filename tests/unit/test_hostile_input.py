"""Hostile input, fuzzed: the NMEA and CSV decoders and the Silver parser fed with
generated garbage never raise, and every input is accounted for exactly once.

Each property is bounded twice: a small `max_examples` and a wall-clock timeout (Spark's
start-up excluded). Failing examples are not shrunk in the Spark test, where each one
costs Spark jobs; the others shrink as usual.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pyais.encode import encode_dict

from maritime_streaming import rejects
from maritime_streaming.csv_sources import MAX_ROW_LENGTH, CsvDecoder
from maritime_streaming.nmea import MAX_LINE_LENGTH, NmeaDecoder, nmea_checksum
from maritime_streaming.rejects import Reject
from maritime_streaming.sources import csv_file, nmea_file
from maritimeiq.events import make_event, validate

RECEIVED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
REASONS = {value for name, value in vars(rejects).items() if name.isupper() and isinstance(value, str)}
SQL = [
    "'; DROP TABLE silver.ais_positions; --",
    "1 OR 1=1",
    "\"; DELETE FROM ais_positions WHERE ''='",
    "Robert'); DROP TABLE students;--",
    "${jndi:ldap://127.0.0.1/a}",
    "$(rm -rf /)",
    "{{7*7}}",
]
NOT_FINITE_TEXT = ["NaN", "nan", "Infinity", "-Infinity", "inf", "-inf", "1e400", "-1e400"]
MEGABYTE = 1_000_000

FUZZ = settings(
    deadline=None,
    database=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


# -- NMEA ---------------------------------------------------------------------------------
# Characters that may stand in a field: printable ASCII without NMEA delimiters.
FIELD_CHARS = "".join(chr(c) for c in range(32, 127) if chr(c) not in ",*\\!$")
field_text = st.text(alphabet=FIELD_CHARS, max_size=12)


def framed(fields: list[str], start: str = "!", good_checksum: bool = True) -> str:
    body = ",".join(fields)
    checksum = nmea_checksum(body) ^ (0 if good_checksum else 0x5A)
    return f"{start}{body}*{checksum:02X}"


def split_sentence(sentence: str) -> list[str]:
    return sentence[1 : sentence.rindex("*")].split(",")


ais_data = st.fixed_dictionaries(
    {"msg_type": st.sampled_from([1, 2, 3, 4, 5, 18, 19, 21, 24, 27]), "mmsi": st.integers(0, 999_999_999)},
    optional={
        "lat": st.floats(-90, 90),
        "lon": st.floats(-180, 180),
        "speed": st.floats(0, 102),
        "course": st.floats(0, 359),
        "partno": st.sampled_from([0, 1]),
        "shipname": st.sampled_from(["", "MAERSK", "DROP TABLE"]),
    },
)


@st.composite
def ais_group(draw) -> list[str]:
    """The sentences of one encoded message, intact or damaged the ways feeds damage them."""
    sentences = encode_dict(
        draw(ais_data),
        talker_id="AI",
        sentence_type="VDM",
        seq_id=draw(st.integers(0, 9)) if draw(st.booleans()) else None,
    )
    how = draw(
        st.sampled_from(
            [
                "intact",
                "truncated",
                "reversed",
                "doubled",
                "overlong",
                "payload_garbage",
                "bad_checksum",
                "cut",
                "fill_bits",
                "silly_counts",
                "tag_block",
                "pghp",
                "receiver_suffix",
            ]
        )
    )
    if how == "truncated":
        return sentences[:-1] or sentences
    if how == "reversed":
        return sentences[::-1]
    if how == "doubled":
        return sentences + sentences
    if how == "overlong":
        last = split_sentence(sentences[-1])
        return sentences + [framed([last[0], last[1], str(int(last[1]) + 1), *last[3:]])]
    index = draw(st.integers(0, len(sentences) - 1))
    fields = split_sentence(sentences[index])
    if how == "payload_garbage":
        fields[5] = draw(st.text(alphabet=FIELD_CHARS, max_size=90))
        sentences[index] = framed(fields)
    elif how == "bad_checksum":
        sentences[index] = framed(fields, good_checksum=False)
    elif how == "cut":
        sentences[index] = sentences[index][: draw(st.integers(0, len(sentences[index])))]
    elif how == "fill_bits":
        fields[6] = draw(st.sampled_from(["0", "5", "6", "9", "-1", "NaN", ""]))
        sentences[index] = framed(fields)
    elif how == "silly_counts":
        silly = st.sampled_from(["0", "10", "99999999999999999999", "-1", "NaN", "inf", "", "1.5"])
        fields[1], fields[2] = draw(st.one_of(silly, st.just(fields[1]))), draw(st.one_of(silly, st.just(fields[2])))
        sentences[index] = framed(fields)
    elif how == "tag_block":
        tags = draw(
            st.lists(
                st.one_of(
                    st.sampled_from(
                        [
                            "c:NaN",
                            "c:inf",
                            "c:-1e30",
                            "c:1e400",
                            "c:99999999999999",
                            "c:1700000000",
                            "g:1-2-7",
                            "g:2-2-7",
                            "g:--",
                            "g:a-b-c-d",
                            "s:'; DROP TABLE x; --",
                            "s:",
                        ]
                    ),
                    field_text.map(lambda t: t.replace(":", "") + ":" + t),
                ),
                max_size=4,
            )
        )
        tag = ",".join(tags)
        checksum = nmea_checksum(tag) ^ (0 if draw(st.booleans()) else 1)
        sentences[index] = (
            f"\\{tag}*{checksum:02X}\\{sentences[index]}" if draw(st.booleans()) else f"\\{tag}{sentences[index]}"
        )  # unterminated tag block
    elif how == "pghp":
        numbers = draw(
            st.one_of(
                st.just(["2026", "11", "01", "12", "00", "00", "0", "219", "", "2190001", "1", "0"]),
                st.lists(st.sampled_from(["2026", "13", "32", "25", "61", "-1", "NaN", "0", "999", ""]), max_size=13),
            )
        )
        return [framed(["PGHP", "1", *numbers], start="$", good_checksum=draw(st.booleans()))] + sentences
    elif how == "receiver_suffix":
        sentences[index] += "," + ",".join(
            draw(
                st.lists(
                    st.sampled_from(
                        [
                            "rStation",
                            "b",
                            "r",
                            "NaN",
                            "inf",
                            "-1e400",
                            "1700000000",
                            "1700000000000",
                            "'; DROP TABLE x; --",
                        ]
                    ),
                    min_size=1,
                    max_size=3,
                )
            )
        )
    return sentences


framed_garbage = st.builds(
    lambda talker, fields, start, good: framed([talker, *fields], start, good),
    st.sampled_from(["AIVDM", "AIVDO", "GPGGA", "AIVDX", "AI", "PGHP", ""]),
    st.lists(st.one_of(field_text, st.sampled_from([*NOT_FINITE_TEXT, "'; DROP TABLE x; --", "1 OR 1=1"])), max_size=8),
    st.sampled_from(["!", "$"]),
    st.booleans(),
)

nmea_chunk = st.one_of(
    ais_group().map(lambda lines: [line.encode() for line in lines]),
    framed_garbage.map(lambda line: [line.encode()]),
    st.binary(max_size=160).map(lambda b: [b.replace(b"\n", b"")]),
    st.text(max_size=80).map(lambda t: [t.replace("\n", "").encode()]),
    st.sampled_from(SQL + NOT_FINITE_TEXT + ["", "   ", "#comment", "\\", "!", "$PGHP", "*00"]).map(
        lambda t: [t.encode()]
    ),
    st.sampled_from([MAX_LINE_LENGTH + 1, MEGABYTE]).flatmap(
        lambda n: st.sampled_from([[b"!AIVDM," + b"A" * n], [b"\xff" * n], [b"\\" + b"c:1," * (n // 4) + b"\\"]])
    ),
)
nmea_lines = st.lists(nmea_chunk, max_size=30).map(lambda chunks: [line for chunk in chunks for line in chunk])


def _fragments(raw: str) -> int:
    return raw.count("\n") + 1


def _summary(item) -> tuple:
    if isinstance(item, Reject):
        return ("reject", item.reason, item.raw)
    return ("event", item["event_type"], item["raw"])


@pytest.mark.timeout(30, func_only=True)
@FUZZ
@given(lines=nmea_lines, gaps=st.lists(st.sampled_from([0, 1, 61]), max_size=30))
def test_nmea_decoder_accounts_for_every_hostile_line(lines, gaps):
    # Receive times: a gap of 61 s expires the groups waiting for fragments.
    moments = [RECEIVED + timedelta(seconds=sum(gaps[:number])) for number in range(len(lines))]
    decoder = NmeaDecoder("fuzz")
    per_line = [list(decoder.feed(line, moments[number - 1], number)) for number, line in enumerate(lines, 1)]
    tail = list(decoder.flush())
    texts = {line.decode("latin-1").strip() for line in lines}

    accounted = 0
    for number, (line, outputs) in enumerate(zip(lines, per_line), 1):
        events = [o for o in outputs if isinstance(o, dict)]
        own = [o for o in outputs if isinstance(o, Reject) and o.reason != rejects.INCOMPLETE_GROUP]
        dropped = [o for o in outputs if isinstance(o, Reject) and o.reason == rejects.INCOMPLETE_GROUP]
        messages = {e["raw"] for e in events}
        assert all(r.line_number == number for r in own)
        assert len(own) + len(messages) <= 1, f"line {number} has two outcomes: {outputs}"
        for event in events:
            assert validate(event) == [], event
        # A message's outcome (events, or a reject when it does not decode) covers all its fragments.
        accounted += sum(_fragments(r.raw) for r in own + dropped) + sum(_fragments(m) for m in messages)
        # Lines without an outcome of their own: blank and comment lines, a Gatehouse header
        # (it stamps the next sentence) and fragments waiting for the rest of their message.
        text = line.decode("latin-1").strip()
        if not own and line.isascii() and (not text or text.startswith("#")):
            accounted += 1
        elif not own and line.isascii() and text.startswith("$PGHP") and len(text) <= MAX_LINE_LENGTH:
            accounted += 1
    assert all(r.reason == rejects.INCOMPLETE_GROUP for r in tail)
    accounted += sum(_fragments(r.raw) for r in tail)
    assert accounted == len(lines)

    for item in [o for outputs in per_line for o in outputs] + tail:
        if isinstance(item, Reject):
            assert item.reason in REASONS and item.source == "fuzz"
            assert len(item.raw) <= 9 * (MAX_LINE_LENGTH + 1)  # at most a 9-sentence group: fits a Kafka message
            grouped = item.reason in (rejects.INCOMPLETE_GROUP, rejects.DECODE_ERROR, rejects.BAD_MMSI)
            sample = item.reason in (rejects.LINE_TOO_LONG, rejects.NOT_ASCII)
            assert sample or (set(item.raw.split("\n")) <= texts if grouped else item.raw in texts)
        else:
            assert set(item["raw"].split("\n")) <= texts

    if moments and moments[-1] - moments[0] > timedelta(seconds=60):
        return  # the file source stamps lines with the wall clock: no expiry to compare with
    # The file source gives the same outcomes, through bytes read from disk.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feed.nmea"
        path.write_bytes(b"\n".join(lines))
        from_file = [_summary(o) for o in nmea_file(path, NmeaDecoder("fuzz"))]
    assert from_file == [_summary(o) for outputs in per_line for o in outputs] + [_summary(o) for o in tail]


# -- CSV ----------------------------------------------------------------------------------
NOAA_HEADER = [
    "MMSI",
    "BaseDateTime",
    "LAT",
    "LON",
    "SOG",
    "COG",
    "Heading",
    "VesselName",
    "IMO",
    "CallSign",
    "VesselType",
    "Status",
    "Length",
    "Width",
    "Draft",
    "Cargo",
    "TransceiverClass",
]
NUMERIC = ["LAT", "LON", "SOG", "COG", "Heading", "VesselType", "Status", "Length", "Width", "Draft"]
cell_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"), max_size=30)


@st.composite
def noaa_row(draw) -> tuple[list[str], str | None]:
    """A row as cells, and the reason it must be rejected for (None: it must decode)."""
    row = {
        "MMSI": str(draw(st.integers(100_000_000, 999_999_999))),
        "BaseDateTime": (datetime(2023, 1, 1) + timedelta(seconds=draw(st.integers(0, 86_400)))).isoformat(),
        "LAT": str(draw(st.floats(-90, 90))),
        "LON": str(draw(st.floats(-180, 180))),
        "SOG": str(draw(st.floats(0, 50))),
        "COG": str(draw(st.floats(0, 359))),
        "Heading": "511",
        "VesselName": draw(st.sampled_from(["SAN JOSE", "", *SQL])),
        "IMO": draw(st.sampled_from(["", "IMO9074729"])),
        "CallSign": "WDI9818",
        "VesselType": "70",
        "Status": "0",
        "Length": "",
        "Width": "",
        "Draft": "",
        "Cargo": "",
        "TransceiverClass": draw(st.sampled_from(["A", "B", ""])),
    }
    how = draw(
        st.sampled_from(
            [
                "valid",
                "nan",
                "not_finite",
                "garbage_number",
                "bad_mmsi",
                "bad_time",
                "text_cells",
                "missing_cells",
                "extra_cells",
                "huge",
            ]
        )
    )
    reason = None
    if how == "nan":
        row[draw(st.sampled_from(NUMERIC))] = draw(st.sampled_from(["nan", "NaN"]))  # exports' "no value"
    elif how == "not_finite":
        row[draw(st.sampled_from(NUMERIC))] = draw(st.sampled_from(["inf", "-Infinity", "1e400", "-1E999"]))
        reason = rejects.BAD_CSV_ROW
    elif how == "garbage_number":
        row[draw(st.sampled_from(NUMERIC))] = draw(st.one_of(st.sampled_from(SQL), st.just("0x1F"), st.just("")))
    elif how == "bad_mmsi":
        row["MMSI"] = draw(st.sampled_from([*SQL, "", "0", "²¹⁹⁰⁰⁰⁰⁰¹", "٢١٩٠٠٠٠٠١", "1234567890", "-21900000"]))
        reason = rejects.BAD_MMSI
    elif how == "bad_time":
        row["BaseDateTime"] = draw(st.sampled_from([*SQL, "", "NaN", "2023-13-01T00:00:00", "99999-01-01T00:00:00"]))
        reason = rejects.BAD_TIMESTAMP
    elif how == "text_cells":
        for name in ("VesselName", "CallSign", "Cargo"):
            row[name] = draw(cell_text)
    elif how == "huge":
        row["VesselName"] = "X" * draw(st.sampled_from([MAX_ROW_LENGTH, MEGABYTE]))
        reason = rejects.LINE_TOO_LONG
    cells = [row[name] for name in NOAA_HEADER]
    if how == "missing_cells":
        cells, reason = cells[: draw(st.integers(0, len(cells) - 1))], rejects.BAD_CSV_ROW
    elif how == "extra_cells":
        cells, reason = cells + draw(st.lists(cell_text, min_size=1, max_size=3)), rejects.BAD_CSV_ROW
    return cells, reason


def csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    return out.getvalue()


raw_csv_line = st.one_of(
    st.binary(max_size=200).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"")),
    st.sampled_from(['"unclosed,quote', 'a,"b"c,d', ",,,,", "\x00\x00", "\x1a", *SQL]).map(str.encode),
)
csv_rows = st.lists(st.one_of(noaa_row(), raw_csv_line), max_size=25)


@pytest.mark.timeout(30, func_only=True)
@FUZZ
@given(rows=csv_rows)
def test_csv_decoder_accounts_for_every_hostile_row(rows):
    lines = [csv_line(NOAA_HEADER).encode()] + [
        row if isinstance(row, bytes) else csv_line(row[0]).encode() for row in rows
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(b"\n".join(lines) + b"\n")
        decoder = CsvDecoder("noaa")
        out = list(csv_file(path, decoder))

    found = [o for o in out if isinstance(o, Reject)]
    positions = [o for o in out if isinstance(o, dict) and o["event_type"] == "ais_position"]
    assert all(validate(o) == [] for o in out if isinstance(o, dict))
    assert len(positions) + len(found) == len(rows)
    numbers = [r.line_number for r in found]
    assert numbers == sorted(set(numbers))  # one reject per line at most, in file order
    by_line = {r.line_number: r for r in found}
    decoded_rows = []
    for number, row in enumerate(rows, 2):
        text = lines[number - 1].decode("utf-8", errors="replace")
        if number in by_line:
            reject = by_line[number]
            assert reject.reason in REASONS and reject.detail
            assert reject.raw == (text[:MAX_ROW_LENGTH] if reject.reason == rejects.LINE_TOO_LONG else text)
        if isinstance(row, tuple):
            cells, reason = row
            assert (by_line[number].reason if number in by_line else None) == reason, (cells, by_line.get(number))
            if reason is None:
                decoded_rows.append(",".join(cells))
        elif number not in by_line:
            decoded_rows.append(None)  # garbage that happened to make a row: its cells are csv's business
    assert len(decoded_rows) == len(positions)
    for expected_raw, event in zip(decoded_rows, positions):
        assert expected_raw is None or event["raw"] == expected_raw


# -- Silver ---------------------------------------------------------------------------------
T0 = RECEIVED
INGEST = T0 + timedelta(minutes=5)
BRONZE = (
    "key binary, value binary, topic string, partition int, offset long, kafka_timestamp timestamp, "
    "ingest_time timestamp"
)
VALID, DUPLICATE = "valid", "duplicate"
AIS_DOUBLES = ["latitude", "longitude", "sog_kn", "cog_deg", "rot_deg_min"]
AIS_INTS = ["msg_type", "heading_deg", "nav_status", "utc_second"]
ENV_DOUBLES = [
    "engine_temp_c",
    "vibration_rms_mm_s",
    "lube_oil_pressure_bar",
    "fuel_flow_kg_h",
    "engine_load_pct",
    "running_hours",
    "wind_speed_kn",
    "wind_dir_deg",
    "wave_height_m",
]
# Strings Spark reads as doubles on purpose (NaN and infinity spellings): not a type mismatch.
SPARK_SPECIAL_DOUBLES = {"NaN", "Infinity", "+Infinity", "-Infinity", "INF", "+INF", "-INF"}

replaced_text = st.binary(max_size=40).map(lambda b: b.decode("utf-8", errors="replace"))
station_text = st.one_of(st.none(), st.sampled_from(SQL), st.text(max_size=40), replaced_text, st.just("S" * 100_000))
wrong_for_double = st.one_of(
    st.sampled_from(["55.0", "12", "abc", True, False, {"value": 1}, [1, 2], *SQL]),
    st.text(min_size=1, max_size=10).filter(lambda t: t not in SPARK_SPECIAL_DOUBLES),
)
wrong_for_int = st.sampled_from(["1", "abc", 1.5, 1.0, 10**30, -(10**30), True, {"a": 1}, [], *SQL])
not_finite = st.sampled_from([float("nan"), float("inf"), float("-inf")])


def _json(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)  # NaN and infinity as JSON's bare tokens


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth  # json.dumps would recurse too deep


Template = Callable[[int], tuple[str, "str | set[str]"]]


@st.composite
def ais_payload(draw) -> Template:
    """index -> (payload, expectation): VALID, or the rules of which quarantine must name
    at least one. A template serves several rows (one vessel each), so a batch of a few
    hundred rows stays within what Hypothesis generates per example."""
    when = INGEST - timedelta(minutes=draw(st.integers(1, 2 * 24 * 60)))
    fields = dict(
        msg_type=draw(st.sampled_from([1, 3, 18])),
        latitude=draw(st.floats(-80, 80)),
        longitude=draw(st.floats(-179, 179)),
        sog_kn=draw(st.floats(0, 30)),
        cog_deg=draw(st.floats(0, 359)),
        station=draw(station_text),
    )
    how = draw(
        st.sampled_from(
            [
                "valid",
                "not_finite",
                "wrong_double",
                "wrong_int",
                "wrong_time",
                "nested_field",
                "nested_document",
                "huge_mmsi",
                "sql_mmsi",
                "sql_type",
                "garbage",
                "sql_payload",
            ]
        )
    )

    def event(index: int, **changes) -> dict:
        # Hostile rows have vessels of their own, so they never neighbour a valid fix.
        mmsi = f"{219 if how == 'valid' else 257}0{index:05d}"
        return {**make_event("ais_position", "fuzz", when, mmsi=mmsi, **fields), **changes}

    if how == "valid":
        return lambda i: (_json(event(i)), VALID)
    if how == "not_finite":
        field, value = draw(st.sampled_from(AIS_DOUBLES)), draw(not_finite)
        return lambda i: (_json(event(i, **{field: value})), {f"{field}_not_finite"})
    if how in ("wrong_double", "wrong_int", "wrong_time"):
        field, value = {
            "wrong_double": (draw(st.sampled_from(AIS_DOUBLES)), draw(wrong_for_double)),
            "wrong_int": (draw(st.sampled_from(AIS_INTS)), draw(wrong_for_int)),
            "wrong_time": (
                "event_time",
                draw(st.sampled_from(["yesterday", "2026-13-45T99:00:00Z", True, {"t": 1}, *SQL])),
            ),
        }[how]
        return lambda i: (_json(event(i, **{field: value})), {"field_type_mismatch"})
    if how == "nested_field":
        # Within Jackson's nesting limit an array is a mismatched double; beyond it the
        # whole document is unreadable.
        nested = _nested(draw(st.sampled_from([1, 50, 999, 1001, 5000])))
        return lambda i: (
            _json(event(i, latitude=None)).replace('"latitude": null', '"latitude": ' + nested),
            {"field_type_mismatch", "unparseable_payload"},
        )
    if how == "nested_document":
        text = _nested(draw(st.sampled_from([1, 999, 10_000])))
        return lambda i: (text, {"unparseable_payload"})
    if how == "huge_mmsi":
        mmsi = "2" * draw(st.sampled_from([10, 100_000]))
        return lambda i: (_json(event(i, mmsi=mmsi)), {"mmsi_format"})
    if how == "sql_mmsi":
        mmsi = draw(st.sampled_from(SQL))
        return lambda i: (_json(event(i, mmsi=mmsi)), {"mmsi_format"})
    if how == "sql_type":
        declared = draw(st.sampled_from(SQL))
        return lambda i: (_json(event(i, event_type=declared)), {"unexpected_event_type"})
    text = draw(st.one_of(replaced_text, st.text(max_size=60))) if how == "garbage" else draw(st.sampled_from(SQL))
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("event_type") is not None:
        text = "{" + text  # a document after all: break it
    return lambda i: (text, {"unparseable_payload"})


@st.composite
def env_payload(draw) -> Template:
    when = INGEST - timedelta(minutes=draw(st.integers(1, 2 * 24 * 60)))
    values = {name: draw(st.floats(1, 20)) for name in ENV_DOUBLES}
    how = draw(st.sampled_from(["valid", "not_finite", "wrong_double", "sql_mmsi", "nested_document", "sql_payload"]))

    def event(index: int, **changes) -> dict:
        return {**make_event("environmental_reading", "fuzz", when, mmsi=f"2190{index:05d}", **values), **changes}

    if how == "valid":
        return lambda i: (_json(event(i)), VALID)
    if how == "not_finite":
        field, value = draw(st.sampled_from(ENV_DOUBLES)), draw(not_finite)
        return lambda i: (_json(event(i, **{field: value})), {f"{field}_not_finite"})
    if how == "wrong_double":
        field, value = draw(st.sampled_from(ENV_DOUBLES)), draw(wrong_for_double)
        return lambda i: (_json(event(i, **{field: value})), {"field_type_mismatch"})
    if how == "sql_mmsi":
        mmsi = draw(st.sampled_from(SQL))
        return lambda i: (_json(event(i, mmsi=mmsi)), {"mmsi_format"})
    text = _nested(draw(st.sampled_from([1, 10_000]))) if how == "nested_document" else draw(st.sampled_from(SQL))
    return lambda i: (text, {"unparseable_payload"})


@st.composite
def bronze_batch(draw, templates, valid_event: dict, rows: int) -> list[tuple[str, str | set[str]]]:
    made = draw(st.lists(templates, min_size=10, max_size=40))
    batch = [made[index % len(made)](index) for index in range(rows)]
    # One megabyte string per batch, in a valid row and in a hostile one (more would only slow Spark down).
    batch += [
        (_json({**valid_event, "source": "S" * MEGABYTE}), VALID),
        (_json({**valid_event, "mmsi": "9" * MEGABYTE}), {"mmsi_format"}),
    ]
    valid = [text for text, expected in batch if expected == VALID]
    # Replays of valid payloads: duplicates, counted apart.
    batch += [(text, DUPLICATE) for text in draw(st.lists(st.sampled_from(valid), max_size=10))]
    return batch


def _bronze(spark, batch, topic):
    rows = [
        (None, bytearray(text.encode()), topic, 0, offset, T0.replace(tzinfo=None), INGEST.replace(tzinfo=None))
        for offset, (text, _) in enumerate(batch)
    ]
    return spark.createDataFrame(rows, BRONZE)


def _check_accounting(rows, batch, verbatim_column=None):
    assert sorted(r.offset for r in rows) == list(range(len(batch)))  # each row once, none lost
    valid = quarantined = duplicates = 0
    for row in rows:
        text, expected = batch[row.offset]
        assert row.payload == text  # kept verbatim, whatever it holds
        if row.rule_violations:
            quarantined += 1
            assert isinstance(expected, set) and expected & set(row.rule_violations), (expected, row.rule_violations)
        elif row.is_duplicate:
            duplicates += 1
            assert expected == DUPLICATE
        else:
            valid += 1
            assert expected == VALID, (text[:300], expected)
            if verbatim_column:  # SQL-looking text is data: it arrives as it was sent
                assert row[verbatim_column] == json.loads(text)[verbatim_column]
    assert valid + quarantined + duplicates == len(batch)
    assert valid == sum(expected == VALID for _, expected in batch)
    assert duplicates == sum(expected == DUPLICATE for _, expected in batch)


@pytest.mark.timeout(180, func_only=True)
@settings(FUZZ, max_examples=3, phases=[Phase.explicit, Phase.generate])
@given(
    ais=bronze_batch(
        ais_payload(), make_event("ais_position", "fuzz", T0, mmsi="219099999", msg_type=1, station=SQL[0]), 200
    ),
    env=bronze_batch(env_payload(), make_event("environmental_reading", "fuzz", T0, mmsi="219099999"), 60),
)
def test_silver_parser_quarantines_hostile_payloads_with_a_rule(spark, ais, env):
    from maritime_jobs import silver_ais, silver_streams

    positions = silver_ais.transform(_bronze(spark, ais, "maritime.ais.data"))
    _check_accounting(
        positions.select("offset", "payload", "rule_violations", "is_duplicate", "station").collect(),
        ais,
        verbatim_column="station",
    )
    readings = silver_streams.transform(
        _bronze(spark, env, "maritime.environmental.sensors"), silver_streams.STREAMS["environmental_readings"]
    )
    _check_accounting(readings.select("offset", "payload", "rule_violations", "is_duplicate").collect(), env)
