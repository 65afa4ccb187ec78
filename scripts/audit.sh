#!/usr/bin/env bash
# Dependency vulnerability report: pip-audit over every pinned package of requirements.lock.
#
#   scripts/audit.sh            → results/audit/pip-audit.json and pip-audit.md
#
# pip-audit lives in its own venv (.rasa/audit-venv): it needs packaging>=23, and
# Rasa 3.6 pins packaging 20.9, so it cannot share the project's .venv.
# It asks PyPI's JSON API, per pinned version, which advisories apply (the PyPA advisory
# database, the same data as OSV). Exit codes: 0 no known vulnerability; 1 findings
# (each must be triaged in docs/operations.md, "Dependency vulnerabilities");
# 2 some packages could not be checked (the vulnerability data was unreachable): that is
# not a clean report.
set -euo pipefail
cd "$(dirname "$0")/.."

PIP_AUDIT_VERSION=2.10.1
VENV=.rasa/audit-venv
OUT=results/audit
mkdir -p "$OUT"

if [ ! -x "$VENV/bin/pip-audit" ] || ! "$VENV/bin/pip-audit" --version 2>/dev/null | grep -q "$PIP_AUDIT_VERSION"; then
  echo "Installing pip-audit $PIP_AUDIT_VERSION into $VENV"
  py=$(command -v python3.10 || command -v python3)
  "$py" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip-audit==$PIP_AUDIT_VERSION"
fi

# --no-deps: requirements.lock already lists every transitive package at its pin.
set +e
"$VENV/bin/pip-audit" --requirement requirements.lock --no-deps --disable-pip \
  --progress-spinner off --desc on --format json --output "$OUT/pip-audit.json" 2>"$OUT/pip-audit.log"
status=$?
set -e

"$VENV/bin/python" - "$OUT" "$status" <<'EOF'
import json
import sys
from pathlib import Path

out, status = Path(sys.argv[1]), int(sys.argv[2])
try:
    report = json.loads((out / "pip-audit.json").read_text())
except (OSError, ValueError):
    print((out / "pip-audit.log").read_text()[-3000:], file=sys.stderr)
    sys.exit(status or 2)
deps = report.get("dependencies", [])
found = [(d["name"], d["version"], v) for d in deps for v in d.get("vulns", [])]
skipped = [d for d in deps if d.get("skip_reason")]
lines = ["# pip-audit: requirements.lock", "", f"{len(deps)} pinned packages; {len(found)} known vulnerabilities; {len(skipped)} not checked.", ""]
if found:
    lines += ["| package | version | advisory | aliases | fixed in |", "|---|---|---|---|---|"]
    lines += [f"| {n} | {ver} | {v['id']} | {', '.join(v.get('aliases', []))} | {', '.join(v.get('fix_versions', [])) or '-'} |" for n, ver, v in found]
if skipped:
    lines += ["", "Not checked (no vulnerability data for the pinned version):", ""]
    lines += [f"- {d['name']}: {d['skip_reason']}" for d in skipped]
(out / "pip-audit.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines[:3 + (len(found) + 2 if found else 0)]))
if skipped:
    print(f"\n{len(skipped)} of {len(deps)} packages were NOT checked: the vulnerability data could not be fetched "
          f"(see {out}/pip-audit.md). This is not a clean report.", file=sys.stderr)
    sys.exit(2)
sys.exit(1 if found else 0)
EOF
