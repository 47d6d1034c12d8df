"""Serve a sandbox LMS on a real local port with the standard library's HTTP server.

``start_server`` runs it in a background thread and returns the server and its base URL;
``serve`` does the same but blocks until interrupted (what ``bdtx sandbox serve`` uses).
Injected faults act on the socket: a refused call closes the connection before reading
a reply, a dropped response applies the call and closes without answering.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from sandbox.lms import HttpReply, SandboxLms
from sandbox.options import SandboxOptions


def _use_url(sandbox: SandboxLms, url: str) -> None:
    """Links in replies (images, module URLs) point at the served address."""
    if sandbox.options.wwwroot == SandboxOptions().wwwroot:
        sandbox.options = replace(sandbox.options, wwwroot=url)


def _handler_class(sandbox: SandboxLms) -> type[BaseHTTPRequestHandler]:
    class RestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "SandboxLMS/4.5"
        # http.server writes the headers and the body apart: with Nagle's algorithm the
        # body waits for the client's delayed ACK, 40 ms a call on a kept-alive
        # connection, which Moodle does not cost (sandbox.throttle models its time).
        disable_nagle_algorithm = True

        def _reply(self, body: str) -> None:
            parts = urlsplit(self.path)
            self._send(sandbox.handle_path(parts.path, parts.query, body))

        def _send(self, reply: HttpReply) -> None:
            if reply.refuse_connection or reply.drop_response or reply.timed_out:
                self.close_connection = True
                self.connection.close()
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            self._reply(raw.decode("utf-8", errors="replace"))

        def do_GET(self) -> None:
            self._reply("")

        def log_message(self, format: str, *args: object) -> None:
            return

    return RestHandler


def start_server(
    sandbox: SandboxLms, host: str = "127.0.0.1", port: int = 0
) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``sandbox`` in a daemon thread; returns the server and its base URL.

    Port 0 picks a free port. Stop it with ``server.shutdown(); server.server_close()``.
    """
    server = ThreadingHTTPServer((host, port), _handler_class(sandbox))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="sandbox-lms", daemon=True)
    thread.start()
    bound_host, bound_port = server.server_address[:2]
    url = f"http://{bound_host!s}:{bound_port}"
    _use_url(sandbox, url)
    return server, url


def serve(host: str, port: int, sandbox: SandboxLms) -> None:
    """Serve ``sandbox`` on ``host:port`` until interrupted (blocking)."""
    server = ThreadingHTTPServer((host, port), _handler_class(sandbox))
    server.daemon_threads = True
    _use_url(sandbox, f"http://{host}:{server.server_address[1]}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def serve_forever(server: ThreadingHTTPServer) -> None:
    """Block until interrupted (Ctrl-C), then stop a server from :func:`start_server`."""
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
