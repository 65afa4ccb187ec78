"""Real servers for end-to-end tests: the action server and the Rasa server with
the trained model, on free ports, with a SQLite tracker store in a temp folder."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "egov-login-help.tar.gz"
VENV_BIN = ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log: Path, seconds: int = 240) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()[-3000:]}")


class Servers:
    """Handles to a running pair; `talk` sends one message through the REST channel."""

    def __init__(self, rasa_url: str, actions_url: str, workdir: Path) -> None:
        self.rasa_url, self.actions_url, self.workdir = rasa_url, actions_url, workdir

    def talk(self, sender: str, message: str) -> list[dict]:
        reply = requests.post(f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60)
        reply.raise_for_status()
        return reply.json()

    def texts(self, sender: str, message: str) -> list[str]:
        return [m.get("text", "") for m in self.talk(sender, message)]

    def tracker(self, sender: str) -> dict:
        """Slots and active loop as stored in the SQLite tracker store (the HTTP API stays off)."""
        db = sqlite3.connect(self.workdir / "tracker.db")
        slots: dict = {}
        active_loop: dict = {}
        for type_name, data in db.execute("select type_name, data from events where sender_id = ? order by id", (sender,)):
            event = json.loads(data)
            if type_name == "slot":
                slots[event["name"]] = event["value"]
            elif type_name == "active_loop":
                active_loop = {"name": event["name"]} if event.get("name") else {}
            elif type_name in ("restart", "session_started"):
                slots, active_loop = {}, {}
        return {"slots": slots, "active_loop": active_loop}


def start_servers(workdir: Path, extra_env: dict[str, str] | None = None, rasa_args: list[str] | None = None) -> Iterator[Servers]:
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train` first (the test command does).")
    rasa_port, actions_port = free_port(), free_port()
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{workdir / "tracker.db"}"\n'
        "lock_store:\n  type: in_memory\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", **(extra_env or {})}
    procs = []
    actions_log, rasa_log = workdir / "actions.log", workdir / "rasa.log"
    try:
        procs.append(
            subprocess.Popen(
                [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(actions_port), "--actions", "actions"],
                cwd=ROOT,
                env=env,
                stdout=actions_log.open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    str(VENV_BIN / "rasa"),
                    "run",
                    "--model",
                    str(MODEL),
                    "--port",
                    str(rasa_port),
                    "--endpoints",
                    str(endpoints),
                    "--credentials",
                    str(ROOT / "credentials.yml"),
                    *(rasa_args or []),
                ],
                cwd=workdir,
                env=env,
                stdout=rasa_log.open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        wait_until_up(f"http://127.0.0.1:{actions_port}/health", procs[0], actions_log)
        # Without --enable-api only "/" and the channels exist; `rasa run` loads
        # the model before it starts listening, so "/" answering means ready.
        wait_until_up(f"http://127.0.0.1:{rasa_port}/", procs[1], rasa_log)
        servers = Servers(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{actions_port}", workdir)
        yield servers
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def servers(tmp_path_factory) -> Iterator[Servers]:
    yield from start_servers(tmp_path_factory.mktemp("servers"))


@pytest.fixture(scope="module")
def own_servers(tmp_path_factory) -> Iterator[Servers]:
    """A pair for one test module alone (its conversations stay out of the shared store)."""
    yield from start_servers(tmp_path_factory.mktemp("own-servers"))


@pytest.fixture(scope="module")
def servers_with(tmp_path_factory):
    """servers_with(**environment) → a pair for one test module, started with those variables."""
    started = []

    def make(**environment: str) -> Servers:
        pair = start_servers(tmp_path_factory.mktemp("servers-with"), extra_env=environment)
        started.append(pair)
        return next(pair)

    yield make
    for pair in started:
        pair.close()
