"""Real servers for end-to-end tests (serving/harness.py): the action server and the
Rasa server with the trained model, on free ports, SQLite tracker store in a temp folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from serving.harness import Stack


@pytest.fixture(scope="session")
def servers(tmp_path_factory) -> Iterator[Stack]:
    with Stack(tmp_path_factory.mktemp("servers")) as stack:
        yield stack


@pytest.fixture(scope="module")
def own_servers(tmp_path_factory) -> Iterator[Stack]:
    """A pair for one test module alone (its conversations stay out of the shared store)."""
    with Stack(tmp_path_factory.mktemp("own-servers")) as stack:
        yield stack


@pytest.fixture(scope="module")
def servers_with(tmp_path_factory) -> Iterator:
    """servers_with(**environment) → a pair for one test module, started with those variables."""
    started: list[Stack] = []

    def make(**environment: str) -> Stack:
        stack = Stack(tmp_path_factory.mktemp("servers-with"), env=environment)
        started.append(stack)
        return stack.__enter__()

    yield make
    for stack in started:
        stack.stop()
