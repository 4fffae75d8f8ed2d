"""A scriptable HTTP server on 127.0.0.1 for testing the real retrieval path (httpx, sockets, headers).

Each test starts its own `ScriptedServer` on an ephemeral port and stops it afterwards. The server answers
the n-th request with the n-th `Reply` of its script (the last reply repeats), and records every request
(path, headers, arrival time) so tests can assert how many attempts were made and what they carried.

A reply can delay its answer (to provoke client timeouts), lie about Content-Length (truncated transfer),
omit Content-Length (close-delimited body, so only the running size cap can stop it), and answer 304 when
the request's If-None-Match equals its ETag (or, without If-None-Match, If-Modified-Since equals its
Last-Modified).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait this long before answering
    content_length: int | None = None  # header value to send instead of len(body)
    omit_content_length: bool = False  # send no Content-Length; the body ends when the connection closes
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival


class ScriptedServer:
    """Threaded http.server on 127.0.0.1:<ephemeral port>; use as a context manager or start()/stop()."""

    def __init__(self, *replies: Reply):
        self._replies: list[Reply] = list(replies) or [Reply()]
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- script
    def script(self, *replies: Reply) -> None:
        """Replace the script; the request count restarts so the first reply answers the next request."""
        with self._lock:
            self._replies = list(replies)
            self.requests.clear()

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self._replies[min(len(self.requests), len(self._replies)) - 1]

    # ---- lifecycle
    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> Self:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.scripted = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers that are sleeping through a delay
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection; a body without length ends at close

    def do_GET(self) -> None:
        server: ScriptedServer = self.server.scripted  # type: ignore[attr-defined]
        reply = server._next(Request(self.path, dict(self.headers.items()), time.monotonic()))
        if reply.delay_s and server._stopping.wait(reply.delay_s):
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer(reply)

    def _answer(self, reply: Reply) -> None:
        validators = {"ETag": reply.etag, "Last-Modified": reply.last_modified}
        if self._not_modified(reply):
            self.send_response(304)
            for name, value in validators.items():
                if value:
                    self.send_header(name, value)
            self.end_headers()
            return
        self.send_response(reply.status)
        for name, value in {**validators, **reply.headers}.items():
            if value:
                self.send_header(name, value)
        if not reply.omit_content_length:
            length = reply.content_length if reply.content_length is not None else len(reply.body)
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()

    def _not_modified(self, reply: Reply) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return reply.etag is not None and if_none_match == reply.etag
        since = self.headers.get("If-Modified-Since")
        return since is not None and reply.last_modified is not None and since == reply.last_modified

    def log_message(self, format: str, *args) -> None:  # keep test output quiet
        pass

    def handle(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
            super().handle()
