"""NMEA 0183 AIS decoding: framing, checksums, multi-sentence reassembly, canonical events.

Handles what real feeds carry around the `!AIVDM` sentences (DOMAIN.md, AIS):
* NMEA 4.x tag blocks ``\\c:<unix time>,s:<station>,g:<n>-<count>-<group>*hh\\``;
* the Danish Maritime Authority's ``$PGHP`` Gatehouse header with the time of the
  following sentence;
* USCG receiver logs' ``,r<station>,<unix time>`` after the checksum;
* loggers' receive time before the sentence: Unix epoch (s, ms, µs or ns) or ISO 8601.

Payloads are decoded with pyais. Every line ends as events or as a Reject with a reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pyais.exceptions import AISBaseException, UnknownMessageException
from pyais.messages import AISSentence, NMEASentenceFactory

from maritime_streaming import rejects
from maritime_streaming.rejects import Reject
from maritimeiq.events import make_event, normalise_mmsi

POSITION_TYPES = {1, 2, 3, 18, 19, 27}
STATIC_TYPES = {5, 19, 24}
CLASS_B_TYPES = {18, 19, 24}
MAX_LINE_LENGTH = 1024  # an AIS sentence is at most 82 characters; tag blocks add little
GROUP_TIMEOUT_S = 60.0  # fragments of one message arrive within a second or two
# A receive-time prefix is believed from the start of AIS (the Silver rule's 2000) to a day
# past the moment the line was read: a logger's clock may run ahead, not by years.
EARLIEST_RECEIVE_TIME = datetime(2000, 1, 1, tzinfo=UTC)
RECEIVE_TIME_SLACK = timedelta(days=1)
_EPOCH_START = datetime(1970, 1, 1, tzinfo=UTC)
_PREFIX_END = re.compile(r"\s+(?=[!$\\])")  # whitespace, then a sentence or tag block starts
_EPOCH_NUMBER = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,9})?")
_ISO_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?"
)


def nmea_checksum(body: str) -> int:
    """XOR of every character between the start delimiter and `*` (NMEA 0183)."""
    value = 0
    for char in body:
        value ^= ord(char)
    return value


def _checksum_ok(text: str) -> bool:
    """`text` is `<body>*hh` without the start delimiter."""
    body, star, given = text.rpartition("*")
    if not star or len(given) != 2:
        return False
    try:
        return int(given, 16) == nmea_checksum(body)
    except ValueError:
        return False


def _unix_time(value: str) -> datetime | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    if seconds > 1e11:  # some receivers stamp milliseconds
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def receive_time(value: str, received_at: datetime) -> datetime | None:
    """The time a logger wrote before a sentence, or None when it is not a plausible time.

    An integer epoch's unit is read from its magnitude: between 2000 and 2100 seconds have
    10 digits (9.5e8-4.1e9), milliseconds 13, microseconds 16 and nanoseconds 19, so the
    ranges lie orders of magnitude apart and the cut-offs 1e11, 1e14 and 1e17 fall between them.
    ISO 8601 without an offset is taken as UTC, the time scale of AIS (ITU-R M.1371).
    """
    if _EPOCH_NUMBER.fullmatch(value):
        whole = int(value.partition(".")[0])
        per_second = 1 if whole < 10**11 else 10**3 if whole < 10**14 else 10**6 if whole < 10**17 else 10**9
        # Decimal keeps the fraction exact: a float would turn .250 s into 249999 µs.
        micros = (Decimal(value) * Decimal(10**6) / per_second).to_integral_value(ROUND_HALF_EVEN)
        moment = _EPOCH_START + timedelta(microseconds=int(micros))
    elif _ISO_TIME.fullmatch(value):
        # Python parses at most microseconds: drop finer digits (nanosecond loggers).
        text = re.sub(r"(\.[0-9]{6})[0-9]+", r"\1", value)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    else:
        return None
    if not EARLIEST_RECEIVE_TIME <= moment <= received_at + RECEIVE_TIME_SLACK:
        return None
    return moment


@dataclass
class _Fragment:
    sentence: AISSentence
    raw_line: str
    event_time: datetime
    received_at: datetime
    station: str | None
    line_station: str | None  # named on this very line (tag `s:` or receiver suffix)


@dataclass
class _Group:
    count: int
    fragments: dict[int, _Fragment] = field(default_factory=dict)


class NmeaDecoder:
    """Stateful decoder of one feed: feed lines in order, then `flush()` at the end."""

    def __init__(self, source: str):
        self.source = source
        self.counts: Counter[str] = Counter()
        self._groups: dict[tuple, _Group] = {}
        self._pghp: tuple[datetime, str | None] | None = None

    # -- public -------------------------------------------------------------------------
    def feed(
        self, line: str | bytes, received_at: datetime, line_number: int | None = None
    ) -> Iterator[dict[str, Any] | Reject]:
        self.counts["lines"] += 1
        if isinstance(line, bytes):
            try:
                line = line.decode("ascii")
            except UnicodeDecodeError:
                # Latin-1 keeps one character per byte; a sample, as a megabyte of garbage
                # would not fit in a dead-letter message.
                raw = line.decode("latin-1").rstrip("\r\n")
                yield self._reject(
                    rejects.NOT_ASCII,
                    raw[:MAX_LINE_LENGTH],
                    line_number,
                    f"{len(raw)} characters" if len(raw) > MAX_LINE_LENGTH else "",
                )
                return
        text = line.strip()
        if not text or text.startswith("#"):
            self.counts["skipped"] += 1
            return
        if len(text) > MAX_LINE_LENGTH:
            yield self._reject(rejects.LINE_TOO_LONG, text[:MAX_LINE_LENGTH], line_number, f"{len(text)} characters")
            return
        if not text.isascii():
            yield self._reject(rejects.NOT_ASCII, text, line_number)
            return
        yield from self._expire_groups(received_at)
        logged_at, sentence_text = None, text
        if not text.startswith(("!", "$", "\\")) and (gap := _PREFIX_END.search(text)):
            prefix, sentence_text = text[: gap.start()], text[gap.end() :]
            logged_at = receive_time(prefix, received_at)
            if logged_at is None:
                yield self._reject(
                    rejects.BAD_TIMESTAMP,
                    text,
                    line_number,
                    f"receive-time prefix {prefix[:40]!r} is not an epoch (s/ms/us/ns) or ISO 8601 "
                    f"time between {EARLIEST_RECEIVE_TIME:%Y-%m-%d} and a day after receipt",
                )
                return
        if sentence_text.startswith("$PGHP"):
            yield from self._gatehouse(sentence_text, text, line_number)
            return
        yield from self._sentence_line(sentence_text, text, received_at, logged_at, line_number)

    def flush(self) -> Iterator[Reject]:
        """Every group still waiting for fragments is incomplete."""
        for key in list(self._groups):
            yield from self._drop_group(key, "end of input")

    # -- framing ------------------------------------------------------------------------
    def _gatehouse(self, text: str, line: str, line_number: int | None) -> Iterator[Reject]:
        # $PGHP,1,<yyyy>,<mm>,<dd>,<hh>,<mi>,<ss>,<ms>,<country>,<region>,<pss>,<online>,<cs>*hh
        if not _checksum_ok(text[1:]):
            yield self._reject(rejects.BAD_CHECKSUM, line, line_number, "$PGHP header")
            return
        fields = text.split("*")[0].split(",")
        try:
            year, month, day, hour, minute, second, millis = (int(f) for f in fields[2:9])
            moment = datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=UTC)
        except (ValueError, IndexError):
            yield self._reject(rejects.MALFORMED_SENTENCE, line, line_number, "$PGHP time")
            return
        station = fields[11] if len(fields) > 11 and fields[11] else None
        self._pghp = (moment, station)
        self.counts["pghp"] += 1

    def _sentence_line(
        self, text: str, line: str, received_at: datetime, logged_at: datetime | None, line_number: int | None
    ) -> Iterator[dict[str, Any] | Reject]:
        """`text` is the line after any receive-time prefix; rejects and events keep the whole `line`.

        Time, most trusted first: the tag block's `c:` and the $PGHP header (the receiving
        station's stamps), the logger's receive-time prefix, the USCG suffix, the read time.
        """
        station, group, line_station = None, None, None
        event_time, timed = (logged_at, True) if logged_at else (received_at, False)
        raw_line = line
        if text.startswith("\\"):
            end = text.find("\\", 1)
            if end < 0:
                yield self._reject(rejects.MALFORMED_SENTENCE, raw_line, line_number, "unterminated tag block")
                return
            tag, text_rest = text[1:end], text[end + 1 :]
            # A tag block is metadata around a sentence with its own checksum: when the tag
            # is corrupt, its time, station and group are not trusted, the sentence still is.
            tag_items = tag.rsplit("*", 1)[0].split(",") if _checksum_ok(tag) else []
            if not tag_items:
                self.counts["tag_block_checksum_invalid"] += 1
            for item in tag_items:
                code, _, value = item.partition(":")
                if code == "c" and (moment := _unix_time(value)):
                    event_time, timed = moment, True
                elif code == "s" and value:
                    station = line_station = value
                elif code == "g":
                    group = value
            text = text_rest
        else:
            if self._pghp is not None:
                # The Gatehouse header stamps exactly the sentence that follows it.
                (event_time, station), timed = self._pghp, True
        self._pghp = None

        star = text.find("*")
        if not text.startswith(("!", "$")) or star < 0 or len(text) < star + 3:
            yield self._reject(rejects.MALFORMED_SENTENCE, raw_line, line_number)
            return
        sentence, suffix = text[: star + 3], text[star + 3 :]
        if suffix.startswith(","):
            # USCG receiver logs: ...*hh[,x..,s..,d..,T..],r<station>,<unix time>
            parts = suffix[1:].split(",")
            receiver = next((p for p in parts if p.startswith(("r", "b"))), None)
            station, line_station = station or receiver, line_station or receiver
            if not timed and (moment := _unix_time(parts[-1])):
                event_time = moment
        if not _checksum_ok(sentence[1:]):
            yield self._reject(rejects.BAD_CHECKSUM, raw_line, line_number)
            return
        try:
            parsed = NMEASentenceFactory.produce(sentence.encode("ascii"))
        except UnknownMessageException:
            yield self._reject(rejects.UNSUPPORTED_SENTENCE, raw_line, line_number)
            return
        except (AISBaseException, ValueError, IndexError) as exc:
            yield self._reject(rejects.MALFORMED_SENTENCE, raw_line, line_number, str(exc)[:200])
            return
        if not isinstance(parsed, AISSentence):
            yield self._reject(rejects.UNSUPPORTED_SENTENCE, raw_line, line_number)
            return
        self.counts["sentences"] += 1
        if not parsed.payload:
            yield self._reject(rejects.EMPTY_PAYLOAD, raw_line, line_number)
            return
        if not 1 <= parsed.frag_num <= parsed.frag_cnt <= 9:
            # IEC 61162-1: a message spans 1-9 sentences. A larger count would hold a group,
            # and its memory, open for fragments that never come.
            yield self._reject(
                rejects.MALFORMED_SENTENCE, raw_line, line_number, f"fragment {parsed.frag_num} of {parsed.frag_cnt}"
            )
            return
        fragment = _Fragment(parsed, raw_line, event_time, received_at, station, line_station)
        if parsed.frag_cnt == 1:
            yield from self._emit([fragment], line_number)
            return
        yield from self._collect(fragment, group, line_number)

    # -- reassembly -----------------------------------------------------------------------
    def _collect(
        self, fragment: _Fragment, tag_group: str | None, line_number: int | None
    ) -> Iterator[dict[str, Any] | Reject]:
        sentence = fragment.sentence
        if tag_group and tag_group.count("-") == 2:
            key: tuple = self._tag_group_key(tag_group.split("-")[2], fragment)
        else:
            # Without a tag-block group, fragments belong together by sequence id and channel
            # (per receiving station when every line names it; a $PGHP header names only the first).
            key = ("s", fragment.line_station, sentence.seq_id, sentence.channel)
        group = self._groups.get(key)
        if sentence.frag_num == 1:
            if group is not None:
                yield from self._drop_group(key, "superseded by a new first fragment")
            group = self._groups[key] = _Group(sentence.frag_cnt)
        elif (
            group is None
            or group.count != sentence.frag_cnt
            or sentence.frag_num in group.fragments
            or sentence.frag_num != len(group.fragments) + 1
        ):
            if group is not None:
                yield from self._drop_group(key, "fragment out of sequence")
            yield self._reject(
                rejects.ORPHAN_FRAGMENT,
                fragment.raw_line,
                line_number,
                f"fragment {sentence.frag_num}/{sentence.frag_cnt} without its predecessors",
            )
            return
        group.fragments[sentence.frag_num] = fragment
        if len(group.fragments) == group.count:
            del self._groups[key]
            yield from self._emit([group.fragments[n] for n in sorted(group.fragments)], line_number)

    def _tag_group_key(self, group_id: str, fragment: _Fragment) -> tuple:
        """NMEA 4.10 tag-block group `g:<n>-<count>-<id>`. Real feeds (Kystverket, ORBCOMM,
        IMIS) put `s:` and `c:` on the first sentence only: a later sentence that names no
        station belongs to the open group of that id, and inherits its station and time."""
        own = ("g", fragment.line_station, group_id)
        if fragment.sentence.frag_num == 1 or own in self._groups:
            return own
        waiting = [
            key
            for key in self._groups
            if key[0] == "g" and key[2] == group_id and None in (key[1], fragment.line_station)
        ]
        # Several stations may use one id at once: the group expecting this very sentence,
        # else the one opened last (dicts keep insertion order; fragments follow their first).
        expecting = [
            key
            for key in waiting
            if self._groups[key].count == fragment.sentence.frag_cnt
            and len(self._groups[key].fragments) + 1 == fragment.sentence.frag_num
        ]
        return (expecting or waiting or [own])[-1]

    def _drop_group(self, key: tuple, why: str) -> Iterator[Reject]:
        group = self._groups.pop(key)
        raw = "\n".join(group.fragments[n].raw_line for n in sorted(group.fragments))
        yield self._reject(
            rejects.INCOMPLETE_GROUP, raw, None, f"{len(group.fragments)} of {group.count} fragments; {why}"
        )

    def _expire_groups(self, now: datetime) -> Iterator[Reject]:
        for key, group in list(self._groups.items()):
            first = group.fragments[min(group.fragments)].received_at
            if (now - first).total_seconds() > GROUP_TIMEOUT_S:
                yield from self._drop_group(key, f"no completion within {GROUP_TIMEOUT_S:.0f}s")

    # -- decoding -----------------------------------------------------------------------
    def _emit(self, fragments: list[_Fragment], line_number: int | None) -> Iterator[dict[str, Any] | Reject]:
        raw = "\n".join(f.raw_line for f in fragments)
        # Any pyais error is a reject: a checksum-valid payload may still carry a message type
        # or a message 24 part number that ITU-R M.1371 does not define.
        try:
            sentence = AISSentence.assemble_from_iterable([f.sentence for f in fragments])
            decoded = sentence.decode().asdict(enum_as_int=True)
        except (AISBaseException, ValueError, KeyError, IndexError, TypeError) as exc:
            yield self._reject(rejects.DECODE_ERROR, raw, line_number, f"{type(exc).__name__}: {str(exc)[:200]}")
            return
        first = fragments[0]
        msg_type = decoded.get("msg_type")
        mmsi = normalise_mmsi(decoded.get("mmsi"))
        if mmsi is None:
            yield self._reject(rejects.BAD_MMSI, raw, line_number, f"mmsi {decoded.get('mmsi')!r}")
            return
        self.counts[f"type_{msg_type}"] += 1
        self.counts["messages"] += 1
        station = first.station
        emitted = False
        if msg_type in POSITION_TYPES:
            yield make_event(
                "ais_position",
                self.source,
                first.event_time,
                mmsi=mmsi,
                station=station,
                raw=raw,
                **position_fields(msg_type, decoded),
            )
            emitted = True
        if msg_type in STATIC_TYPES:
            yield make_event(
                "vessel_static",
                self.source,
                first.event_time,
                mmsi=mmsi,
                raw=raw,
                **static_fields(msg_type, mmsi, decoded),
            )
            emitted = True
        if not emitted:
            # Other types (base station reports, binary and safety messages) travel as is.
            yield make_event(
                "ais_other", self.source, first.event_time, mmsi=mmsi, msg_type=msg_type, station=station, raw=raw
            )

    def _reject(self, reason: str, raw: str, line_number: int | None, detail: str = "") -> Reject:
        self.counts[f"reject_{reason}"] += 1
        return Reject(reason=reason, raw=raw, source=self.source, detail=detail, line_number=line_number)


def _none_if(value: Any, *sentinels: Any) -> Any:
    return None if value is None or value in sentinels else value


def position_fields(msg_type: int, d: dict[str, Any]) -> dict[str, Any]:
    """Position fields with ITU-R M.1371 "not available" values as null."""
    if msg_type == 27:
        # Long-range broadcast: SOG in whole knots (63 = n/a), COG in whole degrees (511 = n/a).
        sog = _none_if(d.get("speed"), 63)
        cog = _none_if(d.get("course"), 511)
    else:
        sog = _none_if(d.get("speed"), 102.3)  # raw 1023 = n/a; 1022 means >= 102.2 kn
        cog = _none_if(d.get("course"), 360.0)  # raw 3600 = n/a
    turn = d.get("turn")
    # ROT -128 = n/a; +/-127 = turning faster than 5 deg/30 s without a turn indicator: no rate known.
    rot = None if turn is None or abs(turn) in (127, 128) else float(turn)
    second = d.get("second")
    return {
        "msg_type": msg_type,
        "ais_class": "B" if msg_type in CLASS_B_TYPES else "A",
        "latitude": _none_if(d.get("lat"), 91.0),
        "longitude": _none_if(d.get("lon"), 181.0),
        "sog_kn": None if sog is None else float(sog),
        "cog_deg": None if cog is None else float(cog),
        "heading_deg": _none_if(d.get("heading"), 511),
        "rot_deg_min": rot,
        "nav_status": d.get("status"),
        "position_accuracy": None if d.get("accuracy") is None else bool(d.get("accuracy")),
        "utc_second": None if second is None or second >= 60 else second,  # 60-63: n/a or special
    }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    cleaned = str(value).replace("@", " ").strip()
    return cleaned or None


def _dimension(value: Any) -> int | None:
    return None if not value else int(value)


def static_fields(msg_type: int, mmsi: str, d: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {"msg_type": msg_type, "ais_class": "B" if msg_type in CLASS_B_TYPES else "A"}
    if msg_type == 24:
        fields["part_number"] = d.get("partno")
        if d.get("partno") == 0:
            fields["name"] = _text(d.get("shipname"))
            return fields
        fields.update(ship_type=d.get("ship_type") or None, call_sign=_text(d.get("callsign")))
        if mmsi.startswith("98"):
            return fields  # craft of a parent ship: the dimension bits hold the mothership MMSI
    else:
        fields["name"] = _text(d.get("shipname"))
        fields["ship_type"] = d.get("ship_type") or None
    if msg_type == 5:
        fields.update(
            imo=d.get("imo") or None,
            call_sign=_text(d.get("callsign")),
            draught_m=d.get("draught") or None,
            destination=_text(d.get("destination")),
            eta=_eta(d),
        )
    dims = {k: _dimension(d.get(k)) for k in ("to_bow", "to_stern", "to_port", "to_starboard")}
    fields.update({f"{k}_m": v for k, v in dims.items()})
    if dims["to_bow"] and dims["to_stern"]:
        fields["length_m"] = float(dims["to_bow"] + dims["to_stern"])
    if dims["to_port"] and dims["to_starboard"]:
        fields["beam_m"] = float(dims["to_port"] + dims["to_starboard"])
    return fields


def _eta(d: dict[str, Any]) -> str | None:
    # Message 5 ETA "not available": month 0, day 0, hour 24, minute 60.
    month, day, hour, minute = (d.get(k) for k in ("month", "day", "hour", "minute"))
    if not month or not day or month > 12 or day > 31:
        return None
    hour = None if hour is None or hour >= 24 else hour
    minute = None if minute is None or minute >= 60 else minute
    if hour is None or minute is None:
        return f"{month:02d}-{day:02d}"
    return f"{month:02d}-{day:02d}T{hour:02d}:{minute:02d}"
