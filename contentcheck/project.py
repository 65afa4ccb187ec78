"""One check of one project: where its files are, what has been read, the problems found.

Each concern (contentcheck/schema.py, flows.py, …) reads and adds to it; contentcheck/check.py
runs them in order.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from actions.content import Flow, Problem
from contentcheck.files import ROOT, rel, top_level_lines, yaml_files

ROOT_ENV = "EGOV_CONTENT_ROOT"  # checks a copy of the project instead (tests, the editors' guide)


class Check:
    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or os.environ.get(ROOT_ENV) or ROOT).resolve()
        self.problems: list[Problem] = []
        self.domain_file = self.root / "domain.yml"
        self.flows_file = self.root / "content" / "flows.yml"
        self.requests_file = self.root / "content" / "requests.yml"
        self.stories_file = self.root / "tests" / "test_stories.yml"
        self.test_nlu_file = self.root / "tests" / "test_nlu.yml"
        self.tuning_nlu_file = self.root / "tests" / "nlu_tuning.yml"
        self.domain: dict[str, Any] = {}  # read once the syntax check passes
        self.domain_node: yaml.Node | None = None
        self.flows: dict[str, Flow] = {}  # read once the flows check passes

    def add(self, path: Path | str, line: int, message: str) -> None:
        self.problems.append(Problem(path if isinstance(path, str) else rel(path, self.root), line, message))

    @property
    def intents(self) -> list[str]:
        return [next(iter(i)) if isinstance(i, dict) else str(i) for i in self.domain.get("intents") or []]

    @property
    def responses(self) -> dict[str, Any]:
        return self.domain.get("responses") or {}

    def domain_line(self, section: str, name: str) -> int:
        return top_level_lines(self.domain_node, section).get(name, 1)

    def all_yaml(self) -> list[Path]:
        files = yaml_files(self.root, "data", "content") + [self.stories_file, self.test_nlu_file, self.tuning_nlu_file]
        return [p for p in files + [self.domain_file, self.root / "config.yml"] if p.exists()]
