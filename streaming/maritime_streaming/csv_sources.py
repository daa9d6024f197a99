"""AIS CSV exports to canonical events: Danish Maritime Authority `aisdk` and NOAA
MarineCadastre. Each row gives an `ais_position`; static columns give a
`vessel_static` whenever a vessel's static data differ from what it last sent."""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from maritime_streaming import rejects
from maritime_streaming.rejects import Reject
from maritimeiq.events import make_event, normalise_mmsi

# DMA writes navigational status as ITU-R M.1371 text; codes per the standard's table.
DMA_NAV_STATUS = {
    "under way using engine": 0,
    "at anchor": 1,
    "not under command": 2,
    "restricted maneuverability": 3,
    "restricted manoeuverability": 3,
    "constrained by her draught": 4,
    "moored": 5,
    "aground": 6,
    "engaged in fishing": 7,
    "under way sailing": 8,
    "reserved for future amendment [hsc]": 9,
    "reserved for future amendment [wig]": 10,
    "power-driven vessel towing astern": 11,
    "power-driven vessel pushing ahead or towing alongside": 12,
    "reserved for future use": 13,
    "ais-sart": 14,
    "unknown value": 15,
}

# DMA writes the ship type category as text; the first code of each ITU range stands for it.
DMA_SHIP_TYPE = {
    "wig": 20,
    "fishing": 30,
    "towing": 31,
    "towing long/wide": 32,
    "dredging": 33,
    "diving": 34,
    "military": 35,
    "sailing": 36,
    "pleasure": 37,
    "hsc": 40,
    "pilot": 50,
    "sar": 51,
    "tug": 52,
    "port tender": 53,
    "anti-pollution": 54,
    "law enforcement": 55,
    "medical": 58,
    "not party to conflict": 59,
    "passenger": 60,
    "cargo": 70,
    "tanker": 80,
    "other": 90,
}

# Export rows are a few hundred characters; a longer line is garbage and is rejected
# with this much of it as a sample (a dead-letter message must stay below Kafka's limit).
MAX_ROW_LENGTH = 65_536


def _float(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if math.isinf(number):
        # No AIS quantity is infinite (and int() of it would raise): the row is garbage.
        raise _RowError(rejects.BAD_CSV_ROW, f"number {value.strip()[:40]!r} is not finite")
    return number if number == number else None  # NaN is "no value"


def _int(value: str | None) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = value.strip()
    return None if not cleaned or cleaned.lower() in ("unknown", "undefined", "nan") else cleaned


def _imo(value: str | None) -> int | None:
    text = _text(value)
    if text is None:
        return None
    digits = text.upper().removeprefix("IMO").strip()
    # isdigit() alone admits characters such as "²" that int() refuses.
    return int(digits) if digits.isascii() and digits.isdigit() and int(digits) > 0 else None


def _sentinel_null(position: dict[str, Any]) -> dict[str, Any]:
    """ITU-R M.1371 "not available" values as they appear in CSV exports."""
    rules = {"latitude": 91.0, "longitude": 181.0, "sog_kn": 102.3, "cog_deg": 360.0, "heading_deg": 511}
    for name, sentinel in rules.items():
        if position.get(name) == sentinel:
            position[name] = None
    return position


class CsvDecoder:
    """Rows of one export format to events and rejects; `counts` tallies outcomes."""

    def __init__(self, fmt: str, source: str | None = None):
        if fmt not in ("dma", "noaa"):
            raise ValueError(f"unknown CSV format {fmt!r}: use dma or noaa")
        self.fmt = fmt
        self.source = source or f"csv:{fmt}"
        self.counts: Counter[str] = Counter()
        self._static_seen: dict[str, dict[str, Any]] = {}

    def decode(self, lines: Iterable[str]) -> Iterator[dict[str, Any] | Reject]:
        """Every line after the header gives events or one Reject carrying the line."""
        # One line is one row (exports have no multi-line fields): a stray quote then spoils
        # its own row instead of swallowing the lines after it into one field.
        lines = iter(lines)
        first = next(lines, None)
        if first is None:
            return
        try:
            header = [h.strip().lstrip("#").strip() for h in _fields(first)]
        except csv.Error as exc:
            raise ValueError(f"not a {self.fmt} export: unreadable header ({exc})") from None
        required = {
            "dma": {"Timestamp", "MMSI", "Latitude", "Longitude"},
            "noaa": {"BaseDateTime", "MMSI", "LAT", "LON"},
        }[self.fmt]
        if missing := required - set(header):
            raise ValueError(f"not a {self.fmt} export: header lacks {sorted(missing)}")
        for line_number, line in enumerate(lines, 2):
            text = line.rstrip("\r\n")
            self.counts["rows"] += 1
            if len(text) > MAX_ROW_LENGTH:
                yield self._reject(rejects.LINE_TOO_LONG, text[:MAX_ROW_LENGTH], line_number, f"{len(text)} characters")
                continue
            try:
                row = _fields(text)
            except csv.Error as exc:  # e.g. a carriage return inside an unquoted field
                yield self._reject(rejects.BAD_CSV_ROW, text, line_number, str(exc))
                continue
            if len(row) != len(header):
                yield self._reject(
                    rejects.BAD_CSV_ROW, text, line_number, f"{len(row)} fields, header has {len(header)}"
                )
                continue
            record, raw = dict(zip(header, row)), ",".join(row)
            try:
                events = self._dma(record, raw) if self.fmt == "dma" else self._noaa(record, raw)
            except _RowError as exc:
                yield self._reject(exc.reason, text, line_number, exc.detail)
                continue
            yield from events

    # -- formats ------------------------------------------------------------------------
    # Both formats parse every column before emitting: a bad value in a late column
    # rejects the whole row instead of following events already sent.
    def _dma(self, r: dict[str, str], raw: str) -> list[dict[str, Any]]:
        when = _parse_time(r["Timestamp"], "%d/%m/%Y %H:%M:%S")
        mmsi = _mmsi(r["MMSI"])
        mobile = (r.get("Type of mobile") or "").strip()
        ais_class = {"Class A": "A", "Class B": "B"}.get(mobile)
        status = DMA_NAV_STATUS.get((r.get("Navigational status") or "").strip().lower())
        position = _sentinel_null(
            {
                "msg_type": 0,
                "ais_class": ais_class,
                "latitude": _float(r.get("Latitude")),
                "longitude": _float(r.get("Longitude")),
                "sog_kn": _float(r.get("SOG")),
                "cog_deg": _float(r.get("COG")),
                "heading_deg": _int(r.get("Heading")),
                "rot_deg_min": _float(r.get("ROT")),
                "nav_status": status,
                "raw": raw,
            }
        )
        ship_type = DMA_SHIP_TYPE.get((r.get("Ship type") or "").strip().lower())
        static = dict(
            ais_class=ais_class,
            imo=_imo(r.get("IMO")),
            call_sign=_text(r.get("Callsign")),
            name=_text(r.get("Name")),
            ship_type=ship_type,
            length_m=_float(r.get("Length")),
            beam_m=_float(r.get("Width")),
            draught_m=_float(r.get("Draught")),
            destination=_text(r.get("Destination")),
            eta=_dma_eta(r.get("ETA")),
        )
        self.counts["positions"] += 1
        return [
            make_event("ais_position", self.source, when, mmsi=mmsi, **position),
            *self._static(mmsi, when, raw, **static),
        ]

    def _noaa(self, r: dict[str, str], raw: str) -> list[dict[str, Any]]:
        when = _parse_time(r["BaseDateTime"], "%Y-%m-%dT%H:%M:%S")
        mmsi = _mmsi(r["MMSI"])
        # The transceiver column is spelt both ways across MarineCadastre years.
        ais_class = _text(r.get("TransceiverClass") or r.get("TranscieverClass"))
        position = _sentinel_null(
            {
                "msg_type": 0,
                "ais_class": ais_class if ais_class in ("A", "B") else None,
                "latitude": _float(r.get("LAT")),
                "longitude": _float(r.get("LON")),
                "sog_kn": _float(r.get("SOG")),
                "cog_deg": _float(r.get("COG")),
                "heading_deg": _int(r.get("Heading")),
                "nav_status": _int(r.get("Status")),
                "raw": raw,
            }
        )
        static = dict(
            ais_class=position["ais_class"],
            imo=_imo(r.get("IMO")),
            call_sign=_text(r.get("CallSign")),
            name=_text(r.get("VesselName")),
            ship_type=_int(r.get("VesselType")) or None,
            length_m=_float(r.get("Length")),
            beam_m=_float(r.get("Width")),
            draught_m=_float(r.get("Draft")),
        )
        self.counts["positions"] += 1
        return [
            make_event("ais_position", self.source, when, mmsi=mmsi, **position),
            *self._static(mmsi, when, raw, **static),
        ]

    def _static(self, mmsi: str, when: datetime, raw: str, **fields: Any) -> Iterator[dict[str, Any]]:
        # Exports repeat static columns on every row and leave them blank on some: only a
        # known value that changed makes news, and the event carries the merged state.
        known = self._static_seen.setdefault(mmsi, {})
        changed = {k: v for k, v in fields.items() if v is not None and k != "ais_class" and known.get(k) != v}
        if not changed:
            return
        known.update({k: v for k, v in fields.items() if v is not None})
        self.counts["statics"] += 1
        yield make_event("vessel_static", self.source, when, mmsi=mmsi, msg_type=0, raw=raw, **known)

    def _reject(self, reason: str, raw: str, line_number: int, detail: str) -> Reject:
        self.counts[f"reject_{reason}"] += 1
        return Reject(reason=reason, raw=raw, source=self.source, detail=detail, line_number=line_number)


class _RowError(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _fields(line: str) -> list[str]:
    return next(csv.reader([line]))


def _mmsi(value: str) -> str:
    # normalise_mmsi's isdigit() admits non-ASCII digits that int() refuses or misreads.
    mmsi = normalise_mmsi(value) if value.isascii() else None
    if mmsi is None:
        raise _RowError(rejects.BAD_MMSI, f"mmsi {value!r}")
    return mmsi


def _parse_time(value: str, fmt: str) -> datetime:
    try:
        return datetime.strptime(value.strip(), fmt).replace(tzinfo=UTC)
    except ValueError:
        raise _RowError(rejects.BAD_TIMESTAMP, f"time {value!r} is not {fmt}") from None


def _dma_eta(value: str | None) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        eta = datetime.strptime(text, "%d/%m/%Y %H:%M:%S")
    except ValueError:
        return None
    return eta.strftime("%m-%dT%H:%M")
