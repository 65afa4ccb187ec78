"""The project's files as the checks read them: YAML parsed once (cached), with the
line of every key, and the copy of the project the checks and tests work on."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the checks parse every file several times

# The files an editor changes, and the code the checks and training need: what copy_project() copies.
PROJECT_FILES = (
    "domain.yml",
    "config.yml",
    "content",
    "data",
    "tests/test_stories.yml",
    "tests/test_nlu.yml",
    "tests/nlu_tuning.yml",
    "actions",
    "serving",
    "components",
    "usertext",
)


def copy_project(dest: Path, root: Path = ROOT) -> Path:
    """Copies the files editors change (and the code the checks read) to dest; returns dest."""
    for name in PROJECT_FILES:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
        elif src.exists():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def rel(path: Path, root: Path = ROOT) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def yaml_files(root: Path, *folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (root / folder).rglob("*.yml"))


def load(path: Path) -> Any:
    """The file's data (libyaml, no line numbers)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER)


def compose(path: Path) -> yaml.Node | None:
    """The file's node tree: every node knows its line."""
    return _compose(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=256)
def _compose(text: str) -> yaml.Node | None:
    return yaml.compose(text, Loader=LOADER)


def pairs(node: yaml.Node | None) -> Iterator[tuple[str, yaml.Node, int]]:
    """(key, value node, line) for every mapping entry anywhere under node."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield str(key.value), value, key.start_mark.line + 1
            yield from pairs(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from pairs(item)


def mappings(node: yaml.Node | None) -> Iterator[yaml.MappingNode]:
    """Every mapping anywhere under node, node included."""
    if isinstance(node, yaml.MappingNode):
        yield node
        for _, value in node.value:
            yield from mappings(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from mappings(item)


def child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def key_line(node: yaml.Node | None, key: str) -> int:
    """Line of a top-level `key:` (1 when there is none)."""
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if k.value == key:
                return k.start_mark.line + 1
    return 1


def top_level_lines(node: yaml.Node | None, key: str) -> dict[str, int]:
    """Line of each entry under a top-level key: list items (`- name`) or mapping keys (`name:`)."""
    section = child(node, key)
    lines: dict[str, int] = {}
    if isinstance(section, yaml.SequenceNode):
        for item in section.value:
            if isinstance(item, yaml.ScalarNode):
                lines.setdefault(str(item.value), item.start_mark.line + 1)
            elif isinstance(item, yaml.MappingNode) and item.value:
                lines.setdefault(str(item.value[0][0].value), item.start_mark.line + 1)
    elif isinstance(section, yaml.MappingNode):
        for k, _ in section.value:
            lines.setdefault(str(k.value), k.start_mark.line + 1)
    return lines


def find_line(word: str, paths: list[Path]) -> tuple[Path, int] | None:
    """First line that names `word` as a whole word (outside comments), in the given files."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])")
    for path in paths:
        if not path.exists():
            continue
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(text.split("#", 1)[0]):
                return path, number
    return None
