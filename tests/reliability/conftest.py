"""Shared servers for the reliability suite (started once per session; ~30 s each).

`single`: one action server + one Rasa server, embedded defaults (SQLite tracker store,
in-memory lock store), DEBUG logs through config/logging.yml, the CORS allow-list of
`make run`. Bad input, faults, CORS, API-off and log masking run against it.

`pair`: PostgreSQL + Redis from scripts/services.sh (own folder and free ports), two
Rasa servers on config/endpoints.scaleout.yml and one action server. The second Rasa
server runs with the HTTP API enabled and a token, for the token test.
"""

from __future__ import annotations

import json
import secrets
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import cluster  # noqa: E402

PAGE_ORIGINS = ["http://localhost:8080", "http://127.0.0.1:8080"]  # scripts/run.sh's --cors
API_TOKEN = secrets.token_hex(16)
REPORT_DIR = cluster.ROOT / "results" / "reliability"


def new_sender(prefix: str = "rel") -> str:
    """A fresh conversation id without runs of digits: the log masking hides 6+ digits as
    a personal number, and tests that look for the id in a log must find it."""
    return f"{prefix}-" + uuid.uuid4().hex[:12].translate(str.maketrans("0123456789", "ghijklmnop"))


def write_figures(name: str, figures: dict) -> None:
    """Evidence for the resolution note: results/reliability/<name>.json (not in git)."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / f"{name}.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")


@pytest.fixture(scope="session")
def single(tmp_path_factory) -> Iterator[cluster.Stack]:
    stack = cluster.Stack(tmp_path_factory.mktemp("single"), debug=True, cors=PAGE_ORIGINS)
    try:
        yield stack.start()
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def services() -> Iterator[cluster.Services]:
    found = cluster.Services()
    try:
        found.start()
        yield found
    finally:
        found.remove()


@pytest.fixture(scope="session")
def pair(tmp_path_factory, services) -> Iterator[cluster.Stack]:
    stack = cluster.Stack(
        tmp_path_factory.mktemp("pair"),
        rasa_count=2,
        endpoints=cluster.SCALEOUT_ENDPOINTS,
        env=services.values,
        rasa_args=[[], ["--enable-api", "--auth-token", API_TOKEN]],
    )
    try:
        yield stack.start()
    finally:
        stack.stop()
