"""`make run` tells the truth (scripts/run.sh): a busy port is named before anything
starts, a server that dies is named with the end of its log and the exit status is
non-zero, and a closed terminal (HUP) stops every process it started. `make run
SERVERS=2` serves through nginx from two Rasa servers and stops them all."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from serving.harness import ROOT, SERVICES, WEBHOOK, free_port
from tests.reliability.checks import PROCEDURE_QUESTION, new_sender, step_text

RUN = ROOT / "scripts" / "run.sh"
READY = "The assistant is running"


def descendants(pid: int) -> set[int]:
    """Every process below pid (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


class Run:
    """scripts/run.sh on free ports, its output in files."""

    def __init__(self, tmp_path: Path, **settings: int | str) -> None:
        self.out, self.err = tmp_path / "out.txt", tmp_path / "err.txt"
        self.ports = {"RASA_PORT": free_port(), "ACTIONS_PORT": free_port(), "PAGE_PORT": free_port(), **settings}
        env = {**os.environ, **{k: str(v) for k, v in self.ports.items()}, "RUN_LOGS": str(tmp_path / "logs")}
        self.proc = subprocess.Popen(
            ["bash", str(RUN)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.out.open("w"),
            stderr=self.err.open("w"),
            start_new_session=True,  # its own process group, as a terminal's job is
        )

    def wait_ready(self, seconds: int = 300) -> None:
        deadline = time.time() + seconds
        while time.time() < deadline:
            if READY in self.out.read_text():
                return
            if self.proc.poll() is not None:
                pytest.fail(f"run.sh exited {self.proc.returncode}:\n{self.err.read_text()[-3000:]}")
            time.sleep(0.5)
        pytest.fail("run.sh did not become ready")

    def server_pid(self, marker: str) -> int:
        for pid in descendants(self.proc.pid):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmd:
                return pid
        pytest.fail(f"no process with {marker!r} under run.sh")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


@pytest.fixture
def run_script(tmp_path):
    runs: list[Run] = []

    def start(**settings: int | str) -> Run:
        runs.append(Run(tmp_path, **settings))
        return runs[-1]

    yield start
    for r in runs:
        r.close()


def test_a_busy_port_is_named_with_the_variable_that_changes_it(run_script):
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        busy = other_program.getsockname()[1]
        run = run_script(RASA_PORT=busy)
        assert run.proc.wait(timeout=60) == 1
    said = run.err.read_text()
    assert f"Port {busy} is already in use" in said and f"RASA_PORT={busy + 1} make run" in said
    assert READY not in run.out.read_text()


def test_a_server_that_dies_is_named_with_its_log_and_everything_stops(run_script):
    run = run_script()
    run.wait_ready()
    started = descendants(run.proc.pid)
    os.kill(run.server_pid("serving run --model"), signal.SIGKILL)
    assert run.proc.wait(timeout=60) == 1
    said = run.err.read_text()
    assert "The Rasa server stopped unexpectedly" in said and "rasa.log:" in said
    time.sleep(1)
    assert not alive(started), "run.sh left processes running"


def test_a_closed_terminal_stops_every_process(run_script):
    run = run_script()
    run.wait_ready()
    started = descendants(run.proc.pid)
    assert len(started) >= 3  # action server, Rasa server, help page
    os.kill(run.proc.pid, signal.SIGHUP)
    assert run.proc.wait(timeout=60) == 0
    time.sleep(1)
    assert not alive(started), "run.sh left processes running after HUP"


def test_closing_the_terminal_of_make_shell_stops_the_shell_and_the_action_server(tmp_path):
    import pty
    import select

    master, slave = pty.openpty()
    env = {**os.environ, "ACTIONS_PORT": str(free_port()), "RUN_LOGS": str(tmp_path / "logs")}
    proc = subprocess.Popen(
        ["bash", str(RUN), "--shell"], cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True
    )
    os.close(slave)
    seen, deadline = b"", time.time() + 300
    try:
        while b"Your input" not in seen and time.time() < deadline and proc.poll() is None:
            if select.select([master], [], [], 1)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        assert b"Your input" in seen, seen[-2000:].decode(errors="replace")
        started = descendants(proc.pid)
        assert len(started) >= 2  # the action server and the Rasa shell
        os.killpg(proc.pid, signal.SIGHUP)  # what a terminal does when it closes
        proc.wait(timeout=60)
        time.sleep(1)
        assert not alive(started), "processes outlived the terminal"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(master)


def test_servers_2_serve_through_nginx_and_everything_stops(run_script):
    """`make run SERVERS=2`: PostgreSQL, Redis, two Rasa servers and nginx on RASA_PORT;
    one conversation's turns are answered by both servers; Ctrl-C stops every one."""
    services = Path(tempfile.mkdtemp(prefix="egov-run-services-", dir="/tmp"))  # the postgres user must reach it
    try:
        run = run_script(SERVERS=2, SERVICES_DIR=str(services), PG_PORT=free_port(), REDIS_PORT=free_port())
        run.wait_ready(seconds=600)
        assert "on 2 Rasa servers behind nginx" in run.out.read_text()
        url, me = f"http://127.0.0.1:{run.ports['RASA_PORT']}{WEBHOOK}", new_sender("servers")
        for n, message in enumerate([PROCEDURE_QUESTION, "/guide_next", "/guide_next", "/guide_next"], start=1):
            reply = requests.post(url, json={"sender": me, "message": message}, timeout=60)
            assert reply.status_code == 200 and any(step_text(n) in m.get("text", "") for m in reply.json()), reply.text[:300]
        served = {line.split()[4] for line in (services / "lb" / "access.log").read_text().splitlines() if WEBHOOK in line}
        rasa_port = int(run.ports["RASA_PORT"])
        assert served == {f"127.0.0.1:{rasa_port + 1}", f"127.0.0.1:{rasa_port + 2}"}, served

        started = descendants(run.proc.pid)
        os.kill(run.proc.pid, signal.SIGINT)
        assert run.proc.wait(timeout=120) == 0
        time.sleep(1)
        assert not alive(started), "run.sh left processes running"
        status = subprocess.run(
            ["bash", str(SERVICES), "status"], env={**os.environ, "SERVICES_DIR": str(services)}, capture_output=True, text=True
        )
        assert status.stdout.count("stopped") == 3, status.stdout  # PostgreSQL, Redis and nginx
    finally:
        subprocess.run(["bash", str(SERVICES), "stop", "all"], env={**os.environ, "SERVICES_DIR": str(services)}, capture_output=True)
        shutil.rmtree(services, ignore_errors=True)
