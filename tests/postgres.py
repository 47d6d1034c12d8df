"""A throwaway PostgreSQL cluster for the tests: initdb in a temp folder, a unix socket only.

Started once per test session; each test that asks for it gets a fresh database.
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user
that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import psycopg


def _pg_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(
            f"PostgreSQL's {name} is not installed: run scripts/ensure-postgres (make test does)"
        )
    return found


def _as_server_user(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@dataclass
class PostgresCluster:
    """A running cluster listening on a unix socket in ``socket_dir``."""

    data_dir: Path
    socket_dir: Path
    port: int = 5432
    _names: count[int] = field(default_factory=lambda: count(1))

    @classmethod
    def start(cls) -> PostgresCluster:
        base = Path(tempfile.mkdtemp(prefix="bdtx-pg-"))
        data_dir, socket_dir = base / "data", base / "sock"
        socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(base, "postgres")
            shutil.chown(socket_dir, "postgres")
        subprocess.run(
            _as_server_user(
                [
                    _pg_bin("initdb"),
                    "-D",
                    str(data_dir),
                    "-A",
                    "trust",
                    "-U",
                    "bdtx",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = f"-k {socket_dir} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        subprocess.run(
            _as_server_user(
                [
                    _pg_bin("pg_ctl"),
                    "-D",
                    str(data_dir),
                    "-o",
                    options,
                    "-w",
                    "-l",
                    str(base / "server.log"),
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        return cls(data_dir=data_dir, socket_dir=socket_dir)

    def stop(self) -> None:
        subprocess.run(
            _as_server_user([_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def new_database(self) -> str:
        """Create an empty database; return its SQLAlchemy URL."""
        name = f"bdtx_test_{next(self._names)}"
        with psycopg.connect(
            dbname="postgres", user="bdtx", host=str(self.socket_dir), autocommit=True
        ) as connection:
            connection.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        return f"postgresql+psycopg://bdtx@/{name}?host={self.socket_dir}"
