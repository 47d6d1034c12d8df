"""With max_concurrency > 1 the batches of one write go out side by side."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qsl

import httpx

from connector.client import MoodleClient
from connector.enrol import Enrol, Enrolment
from connector.retry import NO_RETRY

from .recorded_replies import recorded_answer


def test_enrol_batches_overlap_and_every_row_lands() -> None:
    in_flight = peak = 0
    lock = threading.Lock()
    enrolled: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.02)
        fields = parse_qsl(request.content.decode())
        with lock:
            enrolled.extend(v for k, v in fields if k.endswith("[userid]"))
            in_flight -= 1
        return recorded_answer("enrol_manual_enrol_users__ok_batch")  # Moodle's null

    client = MoodleClient(
        "https://lms.test",
        "t",
        transport=httpx.MockTransport(handler),
        retry=NO_RETRY,
        field_budget=3 + 3 * 100,
        max_concurrency=3,
    )
    rows = [Enrolment(roleid=5, userid=uid, courseid=7) for uid in range(1, 601)]
    outcome = Enrol(client).enrol_users(rows)
    assert len(outcome.done) == 600
    assert outcome.failed == []
    assert sorted(int(u) for u in enrolled) == list(range(1, 601))
    assert client.stats.by_function["enrol_manual_enrol_users"].calls == 6
    assert 1 < peak <= 3
