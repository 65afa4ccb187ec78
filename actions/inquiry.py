"""The inquiry text the user sends to the support desk, from content/requests.yml."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from actions.content import PROJECT_ROOT
from actions.fields import LABELLED, PORTAL, SERVICE
from actions.validators import format_datetime

REQUESTS_FILE = PROJECT_ROOT / "content" / "requests.yml"


@lru_cache(maxsize=2)
def _load(path: str, mtime: float) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def load_requests() -> dict[str, Any]:
    return _load(str(REQUESTS_FILE), REQUESTS_FILE.stat().st_mtime)


def display_value(field: str, value: Any) -> str:
    content = load_requests()
    if field == SERVICE:
        return content["services"].get(value, str(value))
    if field == "error_datetime":
        return format_datetime(datetime.fromisoformat(value), content["datetime_format"])
    return str(value)


def summary_lines(slots: dict[str, Any]) -> list[str]:
    """One line per collected value, labelled as the FAQ names it."""
    content = load_requests()
    lines = [content["line_format"].format(label=content["fields"][f], value=display_value(f, slots[f])) for f in LABELLED if slots.get(f)]
    if slots.get(SERVICE) == PORTAL:
        lines.append(content["api_key_line"])  # the secret stays with the user
    return lines


def render_inquiry(form: str, slots: dict[str, Any]) -> tuple[str, str]:
    """(件名, 本文) for the inquiry form."""
    template = load_requests()["inquiries"][form]
    return template["subject"], template["body"].format(fields="\n".join(summary_lines(slots)))
