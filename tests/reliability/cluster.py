"""Real processes for the reliability suite and the load benchmark.

An action server, one or more Rasa servers (same commands and arguments as `make run`
plus the logging configuration), and optionally PostgreSQL and Redis started by
scripts/services.sh. Every process can be stopped and started again on the same
port and the same stores, which is what the fault tests need.

Loaded by tests/reliability/conftest.py and, by path, by tools/bench_load.py
(tests/ is not a package). Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "egov-login-help.tar.gz"
VENV_BIN = ROOT / ".venv" / "bin"
LOGGING_CONFIG = ROOT / "config" / "logging.yml"
SCALEOUT_ENDPOINTS = ROOT / "config" / "endpoints.scaleout.yml"
SERVICES = ROOT / "scripts" / "services.sh"
WEBHOOK = "/webhooks/rest/webhook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", **(extra or {})}


@dataclass
class Proc:
    """One server process that can be stopped and started again on the same port."""

    name: str
    cmd: list[str]
    cwd: Path
    log: Path
    health_url: str
    env: dict[str, str] = field(default_factory=base_env)
    popen: subprocess.Popen | None = None
    starts: int = 0

    def start(self) -> None:
        assert not self.alive(), f"{self.name} is already running"
        self.starts += 1
        # Appends: a restarted server's log follows the first one's, so a test can
        # grep everything a server ever wrote.
        with self.log.open("a", encoding="utf-8") as out:
            out.write(f"\n===== {self.name} start {self.starts} =====\n")
        self.popen = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdout=self.log.open("a"), stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def wait_until_up(self, seconds: float = 300) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
            try:
                if requests.get(self.health_url, timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not come up in {seconds:.0f} s:\n{self.tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        if not self.alive():
            return
        self.popen.send_signal(sig)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()
        self.wait_until_up()

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


class Services:
    """PostgreSQL + Redis from scripts/services.sh, in a folder of their own, on free ports."""

    def __init__(self, folder: Path | None = None, db: str = "rasa") -> None:
        # /tmp itself: the postgres user must traverse every parent of its data folder
        # (pytest's tmp_path is below a 0700 folder).
        self.folder = folder or Path(tempfile.mkdtemp(prefix="egov-services-", dir="/tmp"))
        self.env = {
            "SERVICES_DIR": str(self.folder),
            "PG_PORT": str(free_port()),
            "REDIS_PORT": str(free_port()),
            "PG_DB": db,
        }
        self.values: dict[str, str] = {}

    def run(self, *args: str) -> None:
        done = subprocess.run(["bash", str(SERVICES), *args], env={**os.environ, **self.env}, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"scripts/services.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self, what: str = "all") -> dict[str, str]:
        self.run("start", what)
        self.values = {}
        for line in (self.folder / "services.env").read_text().splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            self.values[key] = value
        return self.values

    def stop(self, what: str = "all") -> None:
        self.run("stop", what)

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def db_url(self) -> str:
        v = self.values
        return f"postgresql://{v['TRACKER_DB_USER']}:{v['TRACKER_DB_PASSWORD']}@{v['TRACKER_DB_HOST']}:{v['TRACKER_DB_PORT']}/{v['TRACKER_DB_NAME']}"

    def events(self, sender: str) -> list[tuple[int, str, dict]]:
        """(id, type_name, event) of one conversation, in stored order."""
        import psycopg2

        v = self.values
        with (
            psycopg2.connect(
                host=v["TRACKER_DB_HOST"],
                port=int(v["TRACKER_DB_PORT"]),
                dbname=v["TRACKER_DB_NAME"],
                user=v["TRACKER_DB_USER"],
                password=v["TRACKER_DB_PASSWORD"],
                connect_timeout=5,
            ) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute("select id, type_name, data from events where sender_id = %s order by id", (sender,))
            return [(row[0], row[1], json.loads(row[2])) for row in cursor.fetchall()]


def sqlite_events(db: Path, sender: str) -> list[tuple[int, str, dict]]:
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute("select id, type_name, data from events where sender_id = ? order by id", (sender,)).fetchall()
    finally:
        connection.close()
    return [(row[0], row[1], json.loads(row[2])) for row in rows]


def tracker_state(events: list[tuple[int, str, dict]]) -> dict[str, Any]:
    """Slots and active loop as the stored events leave them."""
    slots: dict[str, Any] = {}
    active_loop: dict[str, Any] = {}
    for _, type_name, event in events:
        if type_name == "slot":
            slots[event["name"]] = event["value"]
        elif type_name == "active_loop":
            active_loop = {"name": event["name"]} if event.get("name") else {}
        elif type_name in ("restart", "session_started"):
            slots, active_loop = {}, {}
    return {"slots": slots, "active_loop": active_loop}


def user_texts(events: list[tuple[int, str, dict]]) -> list[str]:
    return [event.get("text") or "" for _, type_name, event in events if type_name == "user"]


class Stack:
    """An action server and N Rasa servers sharing one endpoints file."""

    def __init__(
        self,
        workdir: Path,
        rasa_count: int = 1,
        endpoints: Path | None = None,
        env: dict[str, str] | None = None,
        rasa_args: list[list[str]] | None = None,
        debug: bool = False,
        logging_config: Path | None = LOGGING_CONFIG,
        cors: list[str] | None = None,
        credentials: Path = ROOT / "credentials.yml",
    ) -> None:
        self.workdir = workdir
        self.actions_port = free_port()
        self.env = base_env({"ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook", **(env or {})})
        if endpoints is None:  # the embedded default: SQLite in the work folder, in-memory lock store
            endpoints = workdir / "endpoints.yml"
            endpoints.write_text(
                'action_endpoint:\n  url: ${ACTION_ENDPOINT_URL}\n'
                f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{workdir / "tracker.db"}"\n'
                "lock_store:\n  type: in_memory\n",
                encoding="utf-8",
            )
        self.endpoints = endpoints
        log_args = (["--logging-config-file", str(logging_config)] if logging_config else []) + (["--debug"] if debug else [])
        self.actions = Proc(
            "action server",
            [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(self.actions_port), "--actions", "actions", *log_args],
            ROOT,
            workdir / "actions.log",
            f"http://127.0.0.1:{self.actions_port}/health",
            self.env,
        )
        self.rasa: list[Proc] = []
        for i in range(rasa_count):
            port = free_port()
            extra = (rasa_args[i] if rasa_args and i < len(rasa_args) else []) + (["--cors", *cors] if cors else [])
            cmd = [
                str(VENV_BIN / "rasa"),
                "run",
                "--model",
                str(MODEL),
                "--port",
                str(port),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(credentials),
                *log_args,
                *extra,
            ]
            # cwd = the work folder: nothing Rasa writes lands in the repository.
            self.rasa.append(Proc(f"rasa-{i + 1}", cmd, workdir, workdir / f"rasa-{i + 1}.log", f"http://127.0.0.1:{port}/", self.env))
            self.rasa[-1].port = port  # type: ignore[attr-defined]

    def url(self, instance: int = 0) -> str:
        return f"http://127.0.0.1:{self.rasa[instance].port}"  # type: ignore[attr-defined]

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def start(self) -> Stack:
        if not MODEL.exists():
            raise RuntimeError(f"No trained model at {MODEL}: run `make train` first.")
        for proc in [self.actions, *self.rasa]:
            proc.start()
        # Without --enable-api only "/" and the channels exist; `rasa run` loads the
        # model before it listens, so "/" answering means ready.
        for proc in [self.actions, *self.rasa]:
            proc.wait_until_up()
        return self

    def stop(self) -> None:
        for proc in [*self.rasa, self.actions]:
            proc.stop()

    def post(
        self, body: Any = None, instance: int = 0, raw: bytes | None = None, headers: dict | None = None, timeout: float = 120
    ) -> requests.Response:
        url = self.url(instance) + WEBHOOK
        if raw is not None:
            return requests.post(url, data=raw, headers={"Content-Type": "application/json", **(headers or {})}, timeout=timeout)
        return requests.post(url, json=body, headers=headers, timeout=timeout)

    def talk(self, sender: str, message: str, instance: int = 0) -> list[dict]:
        reply = self.post({"sender": sender, "message": message}, instance)
        assert reply.status_code == 200, (reply.status_code, reply.text[:500])
        return reply.json()

    def texts(self, sender: str, message: str, instance: int = 0) -> list[str]:
        return [m.get("text", "") for m in self.talk(sender, message, instance)]

    def logs(self) -> str:
        return "\n".join(p.log.read_text(encoding="utf-8", errors="replace") for p in [self.actions, *self.rasa] if p.log.exists())
