"""Security: the HTTP API is off unless enabled and then needs the token; CORS answers
only the allowed origins; no personal value reaches a log line; no secret in the repo."""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata

import pytest
import requests

import usertext
from actions.forms import PERSONAL_SLOTS
from serving import harness, log_masking
from tests.reliability.checks import API_TOKEN, PAGE_ORIGINS, new_sender, write_figures

API_PATHS = [
    ("GET", "/version"),
    ("GET", "/status"),
    ("GET", "/conversations/{sender}/tracker"),
    ("POST", "/conversations/{sender}/messages"),
    ("POST", "/conversations/{sender}/trigger_intent"),
    ("POST", "/model/parse"),
    ("PUT", "/model"),
    ("GET", "/domain"),
]


def call(base: str, method: str, path: str, sender: str, **kw) -> requests.Response:
    return requests.request(method, base + path.format(sender=sender), json={"text": "hi", "sender": "user"}, timeout=30, **kw)


@pytest.mark.parametrize("method,path", API_PATHS, ids=[p for _, p in API_PATHS])
def test_http_api_off_by_default(single, method, path):
    me = new_sender("api")
    single.talk(me, "こんにちは")
    assert call(single.url(), method, path, me).status_code == 404


@pytest.mark.parametrize("method,path", [p for p in API_PATHS if p[1] != "/version"], ids=[p for _, p in API_PATHS if p != "/version"])
def test_http_api_needs_the_token_when_enabled(pair, method, path):
    me = new_sender("api")
    pair.talk(me, "こんにちは", instance=1)
    base = pair.url(1)  # started with --enable-api --auth-token
    assert call(base, method, path, me).status_code == 401
    assert call(base, method, path, me, params={"token": "wrong" + API_TOKEN}).status_code == 401


def test_http_api_with_the_token_reads_the_conversation(pair):
    me = new_sender("api")
    pair.talk(me, "こんにちは", instance=0)
    tracker = requests.get(f"{pair.url(1)}/conversations/{me}/tracker", params={"token": API_TOKEN}, timeout=30)
    assert tracker.status_code == 200
    assert [e["text"] for e in tracker.json()["events"] if e["event"] == "user"] == ["こんにちは"]


@pytest.mark.parametrize("origin", PAGE_ORIGINS)
def test_cors_allowed_origin(single, origin):
    url = single.url() + harness.WEBHOOK
    preflight = requests.options(
        url,
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
        timeout=30,
    )
    assert preflight.headers.get("Access-Control-Allow-Origin") == origin
    reply = requests.post(url, json={"sender": new_sender("cors"), "message": "こんにちは"}, headers={"Origin": origin}, timeout=60)
    assert reply.status_code == 200 and reply.headers.get("Access-Control-Allow-Origin") == origin


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:9999", "null"])
def test_cors_other_origin_gets_no_header(single, origin):
    url = single.url() + harness.WEBHOOK
    preflight = requests.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}, timeout=30)
    assert "Access-Control-Allow-Origin" not in preflight.headers
    reply = requests.post(url, json={"sender": new_sender("cors"), "message": "こんにちは"}, headers={"Origin": origin}, timeout=60)
    assert "Access-Control-Allow-Origin" not in reply.headers


# --- personal values in logs ---------------------------------------------------------------

API_KEY = "k9XbQ2mZ7rT4vW8yP1sD6fG3hJ5lN0cA"  # fake: made up for this test
FORMS = {
    "unlock-egov": [
        "アカウントのロックを解除してほしいです",
        '/inform{"unlock_service":"egov_application"}',
        "Ichiro.Takahashi@Example.CO.JP",
        '/inform{"identity_choice":"arrival_number"}',
        "２０２６１１２４０００１２３４５６７",
        '/inform{"identity_choice":"applicant_name"}',
        "高橋一郎",
        '/inform{"identity_choice":"corporation_name"}',
        "株式会社タカハシ精機",
        '/inform{"identity_choice":"procedure_name"}',
        "健康保険厚生年金保険被保険者資格喪失届",
        '/inform{"identity_choice":"done"}',
        "はい",
    ],
    "unlock-developer-portal": [
        "ロック解除を依頼したいです",
        '/inform{"unlock_service":"developer_portal"}',
        "dev.team+egov@kaisha-example.jp",
        f"APIキーは {API_KEY} です",
        "TKH-SOFT-2291",
        "タカハシ開発合同会社",
        "はい",
    ],
    "unlock-policy-proposal": [
        "アカウントのロックを解除してほしい",
        '/inform{"unlock_service":"policy_proposal"}',
        "hanako.policy@example.ne.jp",
        "2025-0918-7731",
        "デジタル政策推進室",
        "はい",
    ],
    "deletion": [
        "GビズIDでログインするとHTTP500内部サーバーエラーの画面になる",
        "Microsoftアカウントです",
        "いいえ",
        '/inform{"account_type":"Microsoftアカウント"}',
        "old.address.2019@example.org",
        "昨日の15時ごろ",
        "はい",
        "はい",
    ],
}
# What a person typed about themselves in FORMS (questions and button payloads are not).
TYPED_VALUES = [
    "Ichiro.Takahashi@Example.CO.JP",
    "２０２６１１２４０００１２３４５６７",
    "高橋一郎",
    "株式会社タカハシ精機",
    "健康保険厚生年金保険被保険者資格喪失届",
    "dev.team+egov@kaisha-example.jp",
    API_KEY,
    "TKH-SOFT-2291",
    "タカハシ開発合同会社",
    "hanako.policy@example.ne.jp",
    "2025-0918-7731",
    "デジタル政策推進室",
    "old.address.2019@example.org",
]
NOT_PERSONAL = {"unlock_service", "identity_choice", "deletion_confirmed", "request_confirmed", "form_failures", "deletion_account_type"}


def forms_of(value: str) -> set[str]:
    """Ways a value could be written into a log line."""
    found = {value, value.lower(), unicodedata.normalize("NFKC", value), unicodedata.normalize("NFKC", value).lower()}
    found |= {json.dumps(v)[1:-1] for v in list(found)}
    return {f for f in found if len(f) >= 4 or not f.isascii()}


def test_masking_covers_every_personal_slot_of_the_forms():
    assert set(PERSONAL_SLOTS) - NOT_PERSONAL <= set(log_masking.DEFAULT_PERSONAL_SLOTS)
    assert log_masking.SECRET is usertext.SECRET  # one definition: what the channel redacts, the logs mask


def test_no_personal_value_in_any_log_line_of_full_form_conversations(single):
    """Every form, end to end, with DEBUG logs on both servers; then grep both logs for
    everything typed and every personal slot value the tracker store recorded."""
    db = single.workdir / "tracker.db"
    recorded = set()
    for name, messages in FORMS.items():
        me = new_sender(f"mask-{name}")
        for message in messages:
            single.talk(me, message)
        for _, type_name, event in harness.sqlite_events(db, me):
            if type_name == "slot" and event["name"] in log_masking.DEFAULT_PERSONAL_SLOTS and event["value"]:
                recorded.add(str(event["value"]))
    assert len(recorded) >= 12, recorded  # the forms really ran: each value was stored
    values = set(TYPED_VALUES) | recorded

    logs = {p.log.name: p.log.read_text(encoding="utf-8") for p in (single.actions, single.rasa[0])}
    assert sum(text.count("DEBUG") for text in logs.values()) > 1000  # DEBUG really on
    leaks = [(name, v, form) for name, text in logs.items() for v in values for form in forms_of(v) if form in text]
    assert not leaks, leaks

    masks = {
        m: sum(text.count(m) for text in logs.values()) for m in ("[EMAIL]", "[NUMBER]", "[SECRET]", "[USER_TEXT]", "[PERSONAL]", "[SLOT:")
    }
    lines = logs["rasa-1.log"].splitlines()
    marks = ("[SLOT:", "[PERSONAL]", "[USER_TEXT]", "[EMAIL]", "[NUMBER]")
    excerpt = [next((line[:400] for line in lines if mark in line), "") for mark in marks]
    write_figures(
        "masked_logs",
        {"values_checked": len(values), "log_lines": sum(t.count("\n") for t in logs.values()), "masks": masks, "excerpt": excerpt},
    )


# --- secrets ---------------------------------------------------------------------------------

SECRET_RULES = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
}
# user:password@host in a URL, unless it is a documentation example.
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@{]+:([^@\s/${}%<]+)@([^/\s:]+)")
EXAMPLE_HOSTS = re.compile(r"example|localhost|127\.0\.0\.1|^h$|^host$|^db$")
EXAMPLE_PASSWORDS = {"p", "pw", "pass", "password", "secret", "s3cret", "changeme"}
# A literal value for a setting or variable whose name ends in a secret word.
CONFIG_ASSIGNMENT = re.compile(
    r"(?im)^[ \t-]*[\w.-]*(?:password|passwd|secret|token|api_?key|access_key)[ \t]*[:=][ \t]*[\"']?([^\s\"'#,)]+)"
)
CODE_ASSIGNMENT = re.compile(r"(?i)\b\w*(?:password|passwd|secret|token|api_?key)\s*=\s*[\"']([^\"'\s]{8,})[\"']")
CONFIG_SUFFIXES = {".yml", ".yaml", ".ini", ".cfg", ".toml", ".env", ".conf", ".properties", ".json"}


def test_no_secret_in_the_repository():
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=harness.ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    found = []
    for name in filter(None, listed):
        path = harness.ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for rule_name, rule in SECRET_RULES.items():
            found += [(name, rule_name) for _ in rule.finditer(text)]
        for m in URL_PASSWORD.finditer(text):
            if m.group(1) not in EXAMPLE_PASSWORDS and not EXAMPLE_HOSTS.search(m.group(2)):
                found.append((name, "password in a URL"))
        assignment = CONFIG_ASSIGNMENT if path.suffix in CONFIG_SUFFIXES else CODE_ASSIGNMENT if path.suffix == ".py" else None
        for m in assignment.finditer(text) if assignment else ():
            value, line = m.group(1), text[text.rfind("\n", 0, m.start()) + 1 : text.find("\n", m.end())]
            placeholder = value.startswith(("$", "{", "<", "[")) or value.lower() in {"none", "null", "true", "false", "required"}
            if not placeholder and "fake" not in line:  # test data says so on its line
                found.append((name, m.group(0)[:60]))
    assert not found, found


def test_endpoint_files_take_hosts_and_secrets_from_the_environment():
    for path in sorted((harness.ROOT / "config").glob("endpoints.*.yml")):
        text = path.read_text(encoding="utf-8")
        for key in ("password", "url", "port", "username"):
            for value in re.findall(rf"^\s*{key}:\s*(\S+)", text, re.MULTILINE):
                assert value.startswith("${") and value.endswith("}"), (path.name, key, value)
        assert '"${' not in text and "'${" not in text, f"{path.name}: Rasa expands ${{VAR}} only unquoted"
