"""Shared servers for the reliability suite (started once per session; ~30 s each).

`single`: one action server + one Rasa server, embedded defaults (SQLite tracker store,
in-memory lock store), DEBUG logs through config/logging.yml, the CORS allow-list of
`make run`. Bad input, faults, CORS, API-off and log masking run against it.

`pair`: PostgreSQL + Redis from scripts/services.sh (own folder and free ports), two
Rasa servers on config/endpoints.scaleout.yml and one action server. The second Rasa
server runs with the HTTP API enabled and a token, for the token test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from serving.harness import PAGE_ORIGINS, Services, Stack
from tests.reliability.checks import API_TOKEN


@pytest.fixture(scope="session")
def single(tmp_path_factory) -> Iterator[Stack]:
    with Stack(tmp_path_factory.mktemp("single"), debug=True, cors=PAGE_ORIGINS) as stack:
        yield stack


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    found = Services()
    try:
        found.start()
        yield found
    finally:
        found.remove()


@pytest.fixture(scope="session")
def pair(tmp_path_factory, services) -> Iterator[Stack]:
    stack = Stack(
        tmp_path_factory.mktemp("pair"),
        rasa_count=2,
        services=services,
        balanced=True,
        rasa_args=[[], ["--enable-api", "--auth-token", API_TOKEN]],
    )
    with stack:
        yield stack
