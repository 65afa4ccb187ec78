"""1. YAML syntax, and the same key written twice in one place. 2. Schema: Rasa's own
schema for domain, data and test files; the keys content/flows.yml knows."""

from __future__ import annotations

import logging
import re
from dataclasses import fields
from functools import lru_cache
from pathlib import Path

import yaml

from actions.content import Flow, Node, Option
from contentcheck.files import LOADER, child, compose, load, mappings, yaml_files
from contentcheck.project import Check

# Keys content/flows.yml knows: the loader's own fields, so this list follows actions/content.py.
FLOW_KEYS = {f.name for f in fields(Flow)} - {"id", "line"}
NODE_KEYS = ({f.name for f in fields(Node)} - {"id", "line"}) | {"type"}
OPTION_KEYS = {f.name for f in fields(Option)}

SCHEMA_MESSAGES = [
    (r"Key '(.+?)' was not defined", "「{0}」という項目は使えません（綴りの誤りか、字下げの位置違いでは？）。"),
    (r"Cannot find required key '(.+?)'", "必要な項目「{0}」がありません。"),
    (r"Value '(.*?)' is not of type '(\w+)'", "値「{0}」の形式が違います（{1} が必要です）。字下げや「-」の有無を確認してください。"),
    (r"Value '(.*?)' is not a dict", "値「{0}」の形式が違います。「項目名: 値」の形で書いてください。"),
    (r"Value '(.*?)' is not a list", "値「{0}」の形式が違います。「- 」で始まる一覧で書いてください。"),
]


# --- 1. syntax ----------------------------------------------------------------------


def syntax(check: Check) -> bool:
    """Every file parses and writes no key twice; then the domain is read. False when any does not."""
    ok = True
    for path in check.all_yaml():
        try:
            node = compose(path)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            check.add(
                path,
                mark.line + 1 if mark else 1,
                "YAML の書き方に誤りがあります。この行か直前の行の、インデント（字下げの空白の数）、「:」の後の空白、"
                f"「-」、引用符「\"」の閉じ忘れを確認してください。タブ文字は使えません。（{getattr(exc, 'problem', exc)}）",
            )
            ok = False
            continue
        for mapping in mappings(node):
            seen: dict[str, int] = {}
            for key, _ in mapping.value:
                line = key.start_mark.line + 1
                if key.value in seen:
                    check.add(
                        path,
                        line,
                        f"「{key.value}」が同じ場所に 2 回書かれています（{seen[key.value]} 行目にもあります）。"
                        "後の方だけが使われ、前の方は黙って無視されます。一方を削除するか名前を変えてください。",
                    )
                    ok = False
                seen.setdefault(key.value, line)
    if ok:
        check.domain = load(check.domain_file) or {}
        check.domain_node = compose(check.domain_file)
    return ok


# --- 2. schema ----------------------------------------------------------------------


def schema(check: Check) -> None:
    from rasa.shared.constants import DOMAIN_SCHEMA_FILE
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import CORE_SCHEMA_FILE
    from rasa.shared.nlu.training_data.formats.rasa_yaml import NLU_SCHEMA_FILE

    targets: list[tuple[Path, str]] = [(check.domain_file, DOMAIN_SCHEMA_FILE)]
    for path in yaml_files(check.root, "data") + [check.stories_file, check.test_nlu_file]:
        if not path.exists():
            continue
        keys = set(load(path) or {})
        if keys & {"nlu"}:
            targets.append((path, NLU_SCHEMA_FILE))
        if keys & {"stories", "rules"}:
            targets.append((path, CORE_SCHEMA_FILE))
        if not keys & {"nlu", "stories", "rules"}:
            check.add(path, 1, "このファイルには nlu:、rules:、stories: のどれもありません。先頭の書き方を他のファイルに合わせてください。")
    for path, name in targets:
        for line, message in schema_errors(path.read_text(encoding="utf-8"), name):
            check.add(path, line, message)
    flow_keys(check)


def flow_keys(check: Check) -> None:
    root = compose(check.flows_file)
    flows = child(root, "flows")
    for key, line in ((k.value, k.start_mark.line + 1) for k, _ in (root.value if isinstance(root, yaml.MappingNode) else [])):
        if key not in ("version", "flows"):
            check.add(check.flows_file, line, f"「{key}」という項目は使えません。使えるのは version と flows です。")
    if not isinstance(flows, yaml.MappingNode):
        return
    for flow_key, flow in flows.value:
        unknown_keys(check, flow, FLOW_KEYS, f"フロー「{flow_key.value}」")
        for node_key, node in (child(flow, "nodes") or yaml.MappingNode("", [])).value:
            where = f"フロー「{flow_key.value}」のノード「{node_key.value}」"
            unknown_keys(check, node, NODE_KEYS, where)
            options = child(node, "options")
            for option in options.value if isinstance(options, yaml.SequenceNode) else []:
                unknown_keys(check, option, OPTION_KEYS, f"{where}の選択肢")


def unknown_keys(check: Check, node: yaml.Node, allowed: set[str], where: str) -> None:
    if not isinstance(node, yaml.MappingNode):
        return
    for key, _ in node.value:
        if key.value not in allowed:
            check.add(
                check.flows_file,
                key.start_mark.line + 1,
                f"{where}の「{key.value}」という項目は使えません（綴りの誤りでは？）。使えるのは {', '.join(sorted(allowed))} です。",
            )


@lru_cache(maxsize=256)
def schema_errors(text: str, schema: str) -> tuple[tuple[int, str], ...]:
    """(line, Japanese message) for each way text breaks Rasa's schema. Cached: the slow part of the check."""
    from rasa.shared.utils.validation import YamlValidationException, validate_yaml_schema

    if _fast_schema_ok(text, schema):
        return ()
    found: dict[tuple[int, str], None] = {}
    try:  # Rasa's own validation: slow (ruamel), but it knows the lines
        validate_yaml_schema(text, schema)
    except YamlValidationException as exc:
        for error in exc.validation_errors or []:
            found[(exc._line_number_for_path(exc.content, error.path) or 1, schema_message(str(error)))] = None
    except Exception as exc:  # noqa: BLE001 - Rasa raises several kinds; all are the editor's to fix
        found[(1, f"Rasa がこのファイルを読めません。書き方を他のファイルと見比べてください。（{exc}）")] = None
    return tuple(found)


def _fast_schema_ok(text: str, schema: str) -> bool:
    """Rasa's schema through pykwalify on libyaml-parsed data: ~100× faster than Rasa's loader when all is well."""
    from pykwalify.core import Core
    from rasa.shared.utils.validation import SCHEMA_EXTENSIONS_FILE

    logging.getLogger("pykwalify").setLevel(logging.CRITICAL)
    try:
        data = yaml.load(text, Loader=LOADER)
        core = Core(source_data=data, schema_data=_schema(schema), extensions=[str(_rasa_file(SCHEMA_EXTENSIONS_FILE))])
        core.validate(raise_exception=False)
    except Exception:  # noqa: BLE001 - let Rasa's own validation say what is wrong
        return False
    return not core.errors


@lru_cache(maxsize=8)
def _schema(schema: str) -> dict:
    from rasa.shared.utils.io import read_yaml_file
    from rasa.shared.utils.validation import RESPONSES_SCHEMA_FILE

    return dict(read_yaml_file(_rasa_file(schema)), **read_yaml_file(_rasa_file(RESPONSES_SCHEMA_FILE)))


def _rasa_file(relative: str) -> Path:
    import rasa

    return Path(rasa.__file__).parent / relative


def schema_message(error: str) -> str:
    for pattern, japanese in SCHEMA_MESSAGES:
        m = re.search(pattern, error)
        if m:
            return japanese.format(*m.groups()) + f"（{error}）"
    return f"Rasa の書式に合いません。他の部分の書き方と見比べてください。（{error}）"
