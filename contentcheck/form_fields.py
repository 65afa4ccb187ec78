"""5b. Form fields: domain.yml and content/requests.yml say what actions/fields.py
declares. Each field is a slot with a question; each form's required_slots lists the
fields it can ask, in order; each labelled field has its label and each service its title."""

from __future__ import annotations

from actions import fields
from contentcheck.files import compose, key_line, load, top_level_lines
from contentcheck.project import Check

TABLE = "actions/fields.py"


def check_fields(check: Check) -> None:
    slots = check.domain.get("slots") or {}
    asked = set(check.responses) | set(check.domain.get("actions") or [])
    for slot in fields.PERSONAL_SLOTS:
        if slot not in slots:
            check.add(
                check.domain_file,
                key_line(check.domain_node, "slots"),
                f"フォームの項目「{slot}」（{TABLE}）が domain.yml の slots にありません。"
                "ほかの項目（email など）と同じ書き方で slots に追加してください。",
            )
    for field in fields.FIELDS:
        if not {f"utter_ask_{field.slot}", f"action_ask_{field.slot}"} & asked:
            check.add(
                check.domain_file,
                key_line(check.domain_node, "responses"),
                f"フォームの項目「{field.slot}」を尋ねる文がありません。domain.yml の responses に utter_ask_{field.slot} を追加してください。",
            )
    forms = check.domain.get("forms") or {}
    form_lines = top_level_lines(check.domain_node, "forms")
    for form, expected in fields.FORM_SLOTS.items():
        found = (forms.get(form) or {}).get("required_slots")
        if found != expected:
            check.add(
                check.domain_file,
                form_lines.get(form, key_line(check.domain_node, "forms")),
                f"フォーム「{form}」の required_slots が {TABLE} の項目と合っていません。"
                f"required_slots: [{', '.join(expected)}] にしてください（このフォームが尋ねる項目を、尋ねる順に並べたものです）。",
            )
    if check.requests_file.exists():
        requests(check)


def requests(check: Check) -> None:
    """content/requests.yml: a label for every labelled field, a title for every service, nothing else."""
    data = load(check.requests_file) or {}
    node = compose(check.requests_file)
    for section, names in (("fields", fields.LABELLED), ("services", fields.SERVICES)):
        written = data.get(section) or {}
        lines = top_level_lines(node, section)
        for name in names:
            if name not in written:
                check.add(
                    check.requests_file,
                    key_line(node, section),
                    f"{section}: に「{name}」がありません。「{name}: …」の行を追加して、利用者に見せる名前を書いてください。",
                )
        for name in written:
            if name not in names:
                check.add(
                    check.requests_file,
                    lines.get(str(name), key_line(node, section)),
                    f"{section}: の「{name}」はプログラムにない名前です。綴りを確認してください。使えるのは {', '.join(names)} です。",
                )
