"""`bdtx sandbox serve` as a real process: a local Moodle-protocol server one can stop."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from sandbox.lms import SandboxLms

REST = "/webservice/rest/server.php"


def test_serve_answers_the_protocol_prints_tokens_and_keeps_state_on_stop(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.json"
    SandboxLms().save(state)
    command = [sys.executable, "-m", "cli.main", "sandbox", "serve", "--port", "0"]
    with subprocess.Popen(
        [*command, "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(3)]
            url = re.search(r"(http://127\.0\.0\.1:\d+)", lines[0])
            assert url, lines
            tokens = dict(re.findall(r"token for (\w+) \(([^)]*)\)", "".join(lines)))
            assert tokens == {"limitedbot": "no capabilities", "syncbot": "service user"}
            form = {
                "wstoken": SandboxLms().token_for("syncbot"),
                "wsfunction": "core_webservice_get_site_info",
                "moodlewsrestformat": "json",
            }
            answer = httpx.post(url.group(1) + REST, data=form, timeout=10).json()
            assert answer["username"] == "syncbot"
            assert "4.5" in answer["release"]
            state.unlink()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)
    # Stopped as a service manager stops it: the state is written again.
    assert json.loads(state.read_text("utf-8"))["site"]
