"""Connector benchmark: create, enrol and group N users through the connector.

The sandbox LMS runs as a local HTTP server in a separate process, so the figures for
the client (this process) are its own: wall time, LMS calls per function, items per
second, and the client's CPU time per item (JSON, form encoding, batching, HTTP).
Real Moodle's own cost per item is in ../shared/moodle-contract/_meta__throughput.json
(about 7 ms per created user, 4 ms per enrolment on a 2-core machine), so the client's
share is what matters here.

    python bench/connector_bench.py [--users 5544] [--field-budget 5000] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.client import MoodleClient
from connector.courses import NewCategory, NewCourse
from connector.enrol import Enrolment
from connector.groups import GroupMember, NewGroup
from connector.lms import MoodleLms
from connector.users import NewUser
from sandbox.lms import SandboxLms
from sandbox.server import serve


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(port: int) -> None:
    serve("127.0.0.1", port, SandboxLms())


def _wait_for(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the sandbox LMS server did not start")


def _users(n: int) -> list[NewUser]:
    return [
        NewUser(
            username=f"gv{i:06d}",
            firstname="Lan",
            lastname="Nguyễn Thị",
            email=f"gv{i:06d}@truong.edu.vn",
            idnumber=f"70{i:08d}",
            createpassword=True,
        )
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5544)
    parser.add_argument("--field-budget", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()

    port = _free_port()
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    try:
        _wait_for(port)
        token = SandboxLms().token_for("syncbot")
        client = MoodleClient(
            f"http://127.0.0.1:{port}",
            token,
            field_budget=args.field_budget,
            max_concurrency=args.concurrency,
        )
        lms = MoodleLms(client)
        category = lms.courses.create_categories([NewCategory(name="Bench")]).done[0][1].id
        course = (
            lms.courses.create_courses(
                [NewCourse(fullname="Bench course", shortname="BENCH-1", categoryid=category)]
            )
            .done[0][1]
            .id
        )
        group = lms.groups.create_groups([NewGroup(courseid=course, name="Lớp 01")]).done[0][1].id
        setup_calls = client.stats.calls

        steps: list[tuple[str, int, float, float, int]] = []

        def step(name: str, items: int, work: object) -> None:
            calls_before = client.stats.calls
            wall, cpu = time.perf_counter(), time.process_time()
            assert callable(work)
            work()
            steps.append(
                (
                    name,
                    items,
                    time.perf_counter() - wall,
                    time.process_time() - cpu,
                    client.stats.calls - calls_before,
                )
            )

        created: dict[str, int] = {}

        def create() -> None:
            outcome = lms.users.create_users(_users(args.users))
            assert not outcome.failed, outcome.failed[:3]
            created.update({u.username: answer.id for u, answer in outcome.done})

        def enrol() -> None:
            rows = [Enrolment(roleid=5, userid=uid, courseid=course) for uid in created.values()]
            assert not lms.enrol.enrol_users(rows).failed

        def members() -> None:
            rows = [GroupMember(groupid=group, userid=uid) for uid in created.values()]
            assert not lms.groups.add_group_members(rows).failed

        def read() -> None:
            found = lms.enrol.get_enrolled_users(course)
            assert len(found) == args.users

        step("create users", args.users, create)
        step("enrol", args.users, enrol)
        step("add to group", args.users, members)
        step("read back", args.users, read)
    finally:
        server.terminate()
        server.join(5)

    print(
        f"connector benchmark: {args.users} users, field budget {args.field_budget}, "
        f"concurrency {args.concurrency} (sandbox LMS in a separate process; "
        f"setup {setup_calls} calls)"
    )
    print(f"{'step':<14}{'calls':>7}{'items/s':>10}{'wall s':>9}{'client CPU µs/item':>20}")
    for name, items, wall, cpu, calls in steps:
        print(f"{name:<14}{calls:>7}{items / wall:>10.0f}{wall:>9.2f}{cpu / items * 1e6:>20.0f}")
    print("LMS calls by function:")
    for function, stats in sorted(client.stats.snapshot().items()):
        print(f"  {function:<34}{stats.calls:>5} calls {stats.fields:>8} fields")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"client peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
