"""Line sources for the decoders: files and live TCP feeds (reconnect with backoff)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from maritime_streaming.csv_sources import CsvDecoder
from maritime_streaming.nmea import MAX_LINE_LENGTH, NmeaDecoder
from maritime_streaming.producer import StopFlag
from maritime_streaming.rejects import Reject


def _utcnow() -> datetime:
    return datetime.now(UTC)


def nmea_file(path: str | Path, decoder: NmeaDecoder) -> Iterator[dict[str, Any] | Reject]:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            yield from decoder.feed(line, _utcnow(), number)
    yield from decoder.flush()


def tcp_lines(
    host: str, port: int, stop: StopFlag, *, max_backoff: float = 30.0, log: IO[str] = sys.stderr
) -> Iterator[bytes]:
    """Lines of a TCP feed (e.g. a shore-station NMEA server), reconnecting until stopped."""
    backoff = 1.0
    while not stop.is_set():
        try:
            with socket.create_connection((host, port), timeout=10) as conn:
                conn.settimeout(1.0)
                log.write(f"connected to {host}:{port}\n")
                backoff = 1.0
                buffer = b""
                while not stop.is_set():
                    try:
                        chunk = conn.recv(65536)
                    except TimeoutError:
                        continue
                    if not chunk:
                        raise ConnectionError("feed closed the connection")
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    yield from lines
                    if len(buffer) > 4 * MAX_LINE_LENGTH:
                        # A runaway line without newline: hand it on (the decoder rejects it).
                        yield buffer
                        buffer = b""
        except OSError as exc:
            if stop.is_set():
                break
            log.write(f"feed {host}:{port} unavailable ({exc}); retrying in {backoff:.0f}s\n")
            stop.wait(backoff)
            backoff = min(max_backoff, backoff * 2)


def nmea_tcp(host: str, port: int, decoder: NmeaDecoder, stop: StopFlag) -> Iterator[dict[str, Any] | Reject]:
    number = 0
    for line in tcp_lines(host, port, stop):
        number += 1
        yield from decoder.feed(line, _utcnow(), number)
    yield from decoder.flush()


def csv_file(path: str | Path, decoder: CsvDecoder) -> Iterator[dict[str, Any] | Reject]:
    # Exports are UTF-8; undecodable bytes become U+FFFD instead of stopping the run.
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        yield from decoder.decode(handle)
