"""A server that echoes the request (with the token) never makes the CLI show or store it.

An HTTP proxy in front of the sandbox LMS answers chosen functions with an HTML error
page (HTTP 200) quoting the whole request body, as misconfigured proxies and PHP error
pages do, or with a Moodle error whose debug information quotes it (a site with
debugging on); everything else goes through to the sandbox.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from sandbox.lms import SandboxLms
from sandbox.server import start_server
from tests.e2e.test_cli import SCHOOLS, bdtx, flat, isolate, serve_env, write_config

ECHOED: dict[str, str] = {}  # wsfunction -> "html" or "json"


def _proxy_handler(upstream: str) -> type[BaseHTTPRequestHandler]:
    class Echo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            function = parse_qs(body.decode()).get("wsfunction", [""])[0]
            if ECHOED.get(function) == "html":
                page = f"<html><body><h1>Bad gateway</h1><pre>{body.decode()}</pre></body></html>"
                status, content, kind = 200, page.encode(), "text/html"
            elif ECHOED.get(function) == "json":
                error = {
                    "exception": "invalid_parameter_exception",
                    "errorcode": "invalidparameter",
                    "message": "Bad gateway: invalid parameter value detected",
                    "debuginfo": f"request: {body.decode()}",
                }
                status, content, kind = 200, json.dumps(error).encode(), "application/json"
            else:
                answer = httpx.post(
                    upstream + self.path,
                    content=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=60,
                )
                status, content = answer.status_code, answer.content
                kind = answer.headers.get("Content-Type", "application/json")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Echo


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path)
    return tmp_path


@pytest.fixture
def echoing_lms() -> Iterator[tuple[str, str]]:
    """(proxy URL, the service user's token) of a sandbox behind an echoing proxy."""
    sandbox = SandboxLms()
    server, url = start_server(sandbox, "127.0.0.1", 0)
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _proxy_handler(url))
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{proxy.server_address[1]}", sandbox.token_for("syncbot")
    finally:
        ECHOED.clear()
        for each in (proxy, server):
            each.shutdown()
            each.server_close()


def assert_nowhere(token: str, *texts: str) -> None:
    for text in texts:
        assert token not in text, text


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_lms_check_against_an_echoing_server(
    json_flag: list[str],
    workdir: Path,
    echoing_lms: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, token = echoing_lms
    ECHOED["core_webservice_get_site_info"] = "html"
    serve_env(monkeypatch, url, token)
    result = bdtx("lms", "check", *json_flag, "--config", write_config(workdir))
    assert result.exit_code == 3, result.output
    assert "Bad gateway" in flat(result.output)  # the echo is shown...
    assert_nowhere(token, result.output)  # ...without the token


def test_a_run_whose_writes_are_echoed_stores_and_prints_no_token(
    workdir: Path, echoing_lms: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, token = echoing_lms
    ECHOED["core_user_create_users"] = "json"
    serve_env(monkeypatch, url, token)
    learners = workdir / "hoc-vien.csv"
    learners.write_text(
        "Mã định danh,Họ và tên,Email,Đơn vị công tác,Cấp học,Đối tượng,Môn,Đã học MĐ 1 2 3\n"
        "7012345601,Nguyễn Văn An,an.nguyen@gmail.com,Trường THCS Tiến Hưng,THCS,GV,Toán,x\n"
        "7012345602,Trần Thị Bình,binh.tran@gmail.com,Trường THCS Đồng Nơ,THCS,GV,Ngữ văn,x\n",
        encoding="utf-8",
    )
    config = write_config(workdir, files=[SCHOOLS, learners])
    result = bdtx("run", "--config", config)
    assert result.exit_code != 0, result.output
    history = bdtx("sync", "history", "--json", "--config", config)
    assert "Bad gateway" in history.output  # the failure was recorded, masked
    assert_nowhere(token, result.output, history.output)
    database = (workdir / "var" / "bdtx.sqlite").read_bytes()
    assert token.encode() not in database
