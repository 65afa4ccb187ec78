"""Real servers, started as `make run` starts them, for every suite and benchmark.

An action server and one or more Rasa servers (`python -m serving run …`: the same
arguments as scripts/run.sh, with the patches installed), optionally PostgreSQL, Redis
and an nginx load balancer in front of the Rasa servers, all from scripts/services.sh.
Every process can be stopped and started again on the same port and the same stores,
which is what the fault tests need. Used by tests/e2e, tests/reliability, tests/browser
and bench/. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "egov-login-help.tar.gz"
LOGGING_CONFIG = ROOT / "config" / "logging.yml"
SCALEOUT_ENDPOINTS = ROOT / "config" / "endpoints.scaleout.yml"
CREDENTIALS = ROOT / "credentials.yml"
SERVICES = ROOT / "scripts" / "services.sh"
WEBHOOK = "/webhooks/rest/webhook"
# The help page's origins as scripts/run.sh starts it (Rasa's --cors allow-list).
PAGE_ORIGINS = ["http://localhost:8080", "http://127.0.0.1:8080"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    # Every test client and benchmark user comes from 127.0.0.1, which no real user
    # shares with thousands of others: the per-address limit is off unless asked for
    # (tests/reliability/test_rate_limits.py does); the per-conversation limit stays on.
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "EGOV_RATE_PER_ADDRESS": os.environ.get("EGOV_RATE_PER_ADDRESS", "0"),
        **(extra or {}),
    }


def serving_command(*args: str) -> list[str]:
    """`rasa …` with the project's patches, in this interpreter's environment."""
    return [sys.executable, "-m", "serving", *args]


def wait_until_up(url: str, alive: Callable[[], bool], tail: Callable[[], str], name: str, seconds: float = 300) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not alive():
            raise RuntimeError(f"{name} exited early:\n{tail()}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{name} did not come up in {seconds:.0f} s:\n{tail()}")


@dataclass
class Proc:
    """One server process that can be stopped and started again on the same port."""

    name: str
    cmd: list[str]
    cwd: Path
    log: Path
    health_url: str
    env: dict[str, str] = field(default_factory=base_env)
    port: int = 0
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
        wait_until_up(self.health_url, self.alive, self.tail, self.name, seconds)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        if self.popen is None or not self.alive():
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


@dataclass(frozen=True)
class BalancedRequest:
    method: str
    path: str
    status: int
    upstream: str  # "127.0.0.1:5005", or "a, b" when nginx tried a first and b answered
    seconds: float


class Services:
    """PostgreSQL, Redis and nginx from scripts/services.sh, in a folder of their own, on free ports."""

    def __init__(self, folder: Path | None = None, db: str = "rasa") -> None:
        # /tmp itself: the postgres user must traverse every parent of its data folder
        # (pytest's tmp_path is below a 0700 folder).
        self.folder = folder or Path(tempfile.mkdtemp(prefix="egov-services-", dir="/tmp"))
        self.env = {
            "SERVICES_DIR": str(self.folder),
            "PG_PORT": str(free_port()),
            "REDIS_PORT": str(free_port()),
            "LB_PORT": str(free_port()),
            "PG_DB": db,
        }
        self.values: dict[str, str] = {}

    def run(self, *args: str, env: dict[str, str] | None = None) -> None:
        done = subprocess.run(
            ["bash", str(SERVICES), *args], env={**os.environ, **self.env, **(env or {})}, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise RuntimeError(f"scripts/services.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self, what: str = "all") -> dict[str, str]:
        self.run("start", what)
        self.values = {}
        for line in (self.folder / "services.env").read_text().splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            self.values[key] = value
        return self.values

    def balance(self, ports: list[int]) -> str:
        """nginx on LB_PORT in front of these Rasa servers (started, or reloaded with them); its URL."""
        self.run("start", "lb", env={"LB_UPSTREAMS": " ".join(f"127.0.0.1:{p}" for p in ports)})
        return f"http://127.0.0.1:{self.env['LB_PORT']}"

    def balancer_log(self) -> list[BalancedRequest]:
        """What nginx passed on, in order: one line a request (method, path, status, server)."""
        log = self.folder / "lb" / "access.log"
        if not log.exists():
            return []
        lines = []
        for line in log.read_text(encoding="utf-8").splitlines():
            # "<time> <method> <uri> <status> <upstream[, upstream…]> <seconds>"; a retried
            # request names every server nginx tried, the one that answered last.
            when, method, uri, status, rest = line.split(" ", 4)
            upstream, _, seconds = rest.rpartition(" ")
            lines.append(BalancedRequest(method, uri, int(status), upstream, float(seconds)))
        return lines

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
    """An action server and N Rasa servers sharing one endpoints file; with `services`
    and `balanced=True`, an nginx load balancer in front of the Rasa servers.

    Without an endpoints file: the embedded default of `make run` (SQLite tracker store
    in the work folder, in-memory lock store).
    """

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
        credentials: Path = CREDENTIALS,
        model: Path = MODEL,
        services: Services | None = None,
        balanced: bool = False,
    ) -> None:
        self.workdir = workdir
        self.model = model
        self.services = services
        self.balanced = balanced
        self.balancer_url = ""
        self.actions_port = free_port()
        self.env = base_env(
            {"ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook", **(services.values if services else {}), **(env or {})}
        )
        if endpoints is None:
            endpoints = SCALEOUT_ENDPOINTS if services else self._embedded_endpoints()
        self.endpoints = endpoints
        log_args = (["--logging-config-file", str(logging_config)] if logging_config else []) + (["--debug"] if debug else [])
        self.actions = Proc(
            "action server",
            serving_command("run", "actions", "--port", str(self.actions_port), "--actions", "actions", *log_args),
            ROOT,
            workdir / "actions.log",
            f"http://127.0.0.1:{self.actions_port}/health",
            self.env,
            port=self.actions_port,
        )
        self.rasa: list[Proc] = []
        for i in range(rasa_count):
            port = free_port()
            extra = (rasa_args[i] if rasa_args and i < len(rasa_args) else []) + (["--cors", *cors] if cors else [])
            cmd = serving_command(
                "run", "--model", str(model), "--port", str(port), "--endpoints", str(endpoints), "--credentials", str(credentials)
            )
            # cwd = the work folder: nothing Rasa writes lands in the repository.
            self.rasa.append(
                Proc(
                    f"rasa-{i + 1}",
                    [*cmd, *log_args, *extra],
                    workdir,
                    workdir / f"rasa-{i + 1}.log",
                    f"http://127.0.0.1:{port}/",
                    self.env,
                    port,
                )
            )

    def _embedded_endpoints(self) -> Path:
        path = self.workdir / "endpoints.yml"
        path.write_text(
            "action_endpoint:\n  url: ${ACTION_ENDPOINT_URL}\n"
            f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{self.workdir / "tracker.db"}"\n'
            "lock_store:\n  type: in_memory\n",
            encoding="utf-8",
        )
        return path

    def url(self, instance: int | None = None) -> str:
        """One Rasa server's URL; without `instance`, where users arrive (the balancer, if any)."""
        if instance is None:
            return self.balancer_url or self.url(0)
        return f"http://127.0.0.1:{self.rasa[instance].port}"

    @property
    def rasa_url(self) -> str:
        return self.url()

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def start(self) -> Stack:
        if not self.model.exists():
            raise RuntimeError(f"No trained model at {self.model}: run `make train` first (the test command does).")
        for proc in [self.actions, *self.rasa]:
            proc.start()
        # Without --enable-api only "/" and the channels exist; `rasa run` loads the
        # model before it listens, so "/" answering means ready.
        for proc in [self.actions, *self.rasa]:
            proc.wait_until_up()
        if self.balanced:
            assert self.services is not None, "a balanced stack needs Services (scripts/services.sh starts nginx)"
            self.balancer_url = self.services.balance([proc.port for proc in self.rasa])
        return self

    def stop(self) -> None:
        for proc in [*self.rasa, self.actions]:
            proc.stop()
        if self.balanced and self.services is not None:
            self.services.stop("lb")

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def post(
        self, body: Any = None, instance: int | None = None, raw: bytes | None = None, headers: dict | None = None, timeout: float = 120
    ) -> requests.Response:
        url = self.url(instance) + WEBHOOK
        if raw is not None:
            return requests.post(url, data=raw, headers={"Content-Type": "application/json", **(headers or {})}, timeout=timeout)
        return requests.post(url, json=body, headers=headers, timeout=timeout)

    def talk(self, sender: str, message: str, instance: int | None = None) -> list[dict]:
        reply = self.post({"sender": sender, "message": message}, instance)
        assert reply.status_code == 200, (reply.status_code, reply.text[:500])
        return reply.json()

    def texts(self, sender: str, message: str, instance: int | None = None) -> list[str]:
        return [m.get("text", "") for m in self.talk(sender, message, instance)]

    def events(self, sender: str) -> list[tuple[int, str, dict]]:
        if self.services is not None:
            return self.services.events(sender)
        return sqlite_events(self.workdir / "tracker.db", sender)

    def tracker(self, sender: str) -> dict[str, Any]:
        """Slots and active loop as stored in the tracker store (the HTTP API stays off)."""
        return tracker_state(self.events(sender))

    def logs(self) -> str:
        return "\n".join(p.log.read_text(encoding="utf-8", errors="replace") for p in [self.actions, *self.rasa] if p.log.exists())
