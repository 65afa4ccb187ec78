# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is a step they use, or a tool for the team.
SHELL := /bin/bash
export PROJECT_ROOT := $(CURDIR)
VENV := .venv
PY := $(VENV)/bin/python
RASA := source scripts/env.sh && $(PY) -m serving
MODEL := models/egov-login-help.tar.gz
TRAINING_INPUTS := config.yml domain.yml $(shell find data components -name '*.yml' -o -name '*.py' 2>/dev/null)

.PHONY: help run shell test check faq-report setup train lint lock bench bench-load audit insights clean

help:                          ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /\1\t/' | expand -t 14

run: setup $(MODEL)            ## start action server + Rasa server + help page; SERVERS=N: N Rasa servers behind nginx; Ctrl-C stops all
	@scripts/run.sh

shell: setup $(MODEL)          ## chat in the terminal
	@scripts/run.sh --shell

test: setup                    ## everything CI checks
	@scripts/test.sh

check: setup                   ## content checks for editors (seconds, no training)
	@source scripts/env.sh && $(PY) -m contentcheck

faq-report: setup             ## after an FAQ update: which flows quote text no longer in the FAQ, which FAQ sentences no flow uses -> reports/faq/index.md
	@source scripts/env.sh && $(PY) -m contentcheck.faq_trace

setup: $(VENV)/.lock-installed ## the venv and the locked dependencies (first use of any target does it)

$(VENV)/.lock-installed: requirements.lock scripts/setup.sh
	@scripts/setup.sh

train: setup $(MODEL)          ## train the model when data, config, domain or components changed

# Retrain only when training inputs changed; Rasa's own fingerprint is the second guard.
$(MODEL): $(TRAINING_INPUTS)
	@$(RASA) train --fixed-model-name egov-login-help --out models

lint: setup                    ## ruff and mypy
	@$(VENV)/bin/ruff check actions bench components contentcheck insights serving tools tests usertext web
	@$(VENV)/bin/mypy

lock:                          ## regenerate requirements.lock from requirements.in in a scratch venv
	@scripts/lock.sh

bench: setup $(MODEL)          ## benchmarks (minutes); writes results/bench/
	@source scripts/env.sh && $(PY) -m bench

bench-load: setup $(MODEL)     ## 100 conversations x 10 turns through nginx, two Rasa servers + PostgreSQL + Redis -> results/bench/load.md
	@source scripts/env.sh && $(PY) -m bench.scaleout

audit:                         ## dependency vulnerability report (pip-audit) -> results/audit/
	@scripts/audit.sh

insights: setup                ## unanswered questions, outcomes, drop-offs: make insights SINCE=2026-11-01 UNTIL=2026-11-30 [DB=postgresql://…]
	@source scripts/env.sh && $(PY) -m insights $(if $(SINCE),--since $(SINCE)) $(if $(UNTIL),--until $(UNTIL)) $(if $(DB),--db $(DB))

clean:                         ## remove models, .rasa and results
	rm -rf models .rasa results
