"""The live TCP feed client: lines across reconnects, stop on request."""

from __future__ import annotations

import io
import socket
import threading

from maritime_streaming.producer import StopFlag
from maritime_streaming.sources import tcp_lines


def test_tcp_feed_reconnects_after_the_server_drops_it():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    sessions = [b"!AIVDM,first\r\n!AIVDM,sec", b"ond\n", b"!AIVDM,after-reconnect\n"]

    def serve():
        conn, _ = server.accept()  # first connection: two lines, one split across sends, then a drop
        conn.sendall(sessions[0])
        conn.sendall(sessions[1])
        conn.close()
        conn, _ = server.accept()  # the client comes back by itself
        conn.sendall(sessions[2])
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    stop, log = StopFlag(), io.StringIO()
    received = []
    for line in tcp_lines("127.0.0.1", port, stop, max_backoff=1.0, log=log):
        received.append(line.strip())
        if len(received) == 3:
            stop.set()
    server.close()
    assert received == [b"!AIVDM,first", b"!AIVDM,second", b"!AIVDM,after-reconnect"]
    assert log.getvalue().count("connected to") == 2
    assert "retrying in" in log.getvalue()


def test_unreachable_feed_backs_off_until_stopped():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again: nothing listens there
    stop, log = StopFlag(), io.StringIO()
    threading.Timer(2.5, stop.set).start()
    assert list(tcp_lines("127.0.0.1", port, stop, max_backoff=1.0, log=log)) == []
    assert log.getvalue().count("retrying in") >= 2
