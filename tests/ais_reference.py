"""A deliberately small, independent AIS reader for tests: 6-bit armouring, the
fields of types 1-3 by bit offset (ITU-R M.1371 Annex 8), and an NMEA checksum.
It shares no code with the platform's decoder, so tests can check one against the other."""

from __future__ import annotations

import re

SENTENCE = re.compile(
    r"[!$](?P<body>[A-Z-]{2}VD[MO],(?P<count>\d),(?P<num>\d),(?P<seq>\d?),(?P<chan>[AB12]?),"
    r"(?P<payload>[^,]*),(?P<fill>\d))\*(?P<cs>[0-9A-Fa-f]{2})"
)


def xor_checksum(body: str) -> int:
    total = 0
    for char in body:
        total ^= ord(char)
    return total


def sentences(path) -> list[dict]:
    """Every checksum-valid VDM/VDO sentence in a file, in order."""
    found = []
    with open(path, encoding="ascii", errors="replace") as handle:
        for line in handle:
            match = SENTENCE.search(line)
            if match and int(match["cs"], 16) == xor_checksum(match["body"]):
                found.append(match.groupdict())
    return found


def bits(payload: str, fill: int = 0) -> str:
    out = []
    for char in payload:
        value = ord(char) - 48
        if value > 40:
            value -= 8
        out.append(format(value, "06b"))
    joined = "".join(out)
    return joined[: len(joined) - fill] if fill else joined


def uint(b: str, start: int, length: int) -> int:
    return int(b[start : start + length], 2)


def sint(b: str, start: int, length: int) -> int:
    value = uint(b, start, length)
    return value - (1 << length) if b[start] == "1" else value


def assembled_messages(found: list[dict]) -> list[str]:
    """Payload bit strings of complete messages: single sentences, and multi-sentence
    groups whose fragments follow each other in order with the same sequence id and channel."""
    messages, pending = [], {}
    for s in found:
        count, num = int(s["count"]), int(s["num"])
        if not s["payload"]:
            continue
        if count == 1:
            messages.append(bits(s["payload"], int(s["fill"])))
            continue
        key = (s["seq"], s["chan"])
        if num == 1:
            pending[key] = [s]
        elif key in pending and len(pending[key]) == num - 1:
            pending[key].append(s)
            if num == count:
                parts = pending.pop(key)
                messages.append(bits("".join(p["payload"] for p in parts), int(parts[-1]["fill"])))
        else:
            pending.pop(key, None)
    return messages


def position_report(b: str) -> dict:
    """Types 1-3 with raw integer fields scaled as the standard prescribes."""
    return {
        "msg_type": uint(b, 0, 6),
        "mmsi": f"{uint(b, 8, 30):09d}",
        "sog_kn": uint(b, 50, 10) / 10.0,
        "longitude": sint(b, 61, 28) / 600000.0,
        "latitude": sint(b, 89, 27) / 600000.0,
        "cog_deg": uint(b, 116, 12) / 10.0,
        "heading_deg": uint(b, 128, 9),
        "utc_second": uint(b, 137, 6),
    }
