# Trợ lý dịch vụ công: the two commands are `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
BOT := $(VENV)/bin/bot
ACTION_SERVER_PORT := 5055
export TF_CPP_MIN_LOG_LEVEL ?= 3
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
# The NLU code (tokenizer, abbreviations) shapes the features too: a change to it retrains.
TRAINING_INPUTS := config.yml $(wildcard domain/*.yml) $(shell find data -name '*.yml' -not -path 'data/procedures/*') \
	$(wildcard bot/nlu/*.py) bot/text.py

.PHONY: help install data train run shell test test-fast test-integration validate evaluate bench bench-load lint-deploy browser clean

help:
	@echo "make run       install, import data, train if needed, serve REST/socket.io on :5005, demo page on :8080"
	@echo "make test      the whole test suite (trains a model if there is none)"
	@echo "make shell     chat in the terminal"
	@echo "make evaluate  held-out intent and procedure scores"
	@echo "make bench     search, turn latency and memory figures"
	@echo "make bench-load  1, 10 and 50 simulated citizens, ours against plain Rasa (PostgreSQL, Redis)"

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(PY) || $$(scripts/find-python) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip==24.0
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

install: $(VENV)/.installed

# Import the procedure catalogue (and migrate the database) when the data changed.
var/.imported: $(VENV)/.installed data/procedures/national_procedures.jsonl $(wildcard data/procedures/curated/*.yml) data/life_events.yml data/procedures/synonyms.yml data/procedures/aliases.yml data/procedures/court_matters.yml $(wildcard migrations/versions/*.py)
	mkdir -p var
	$(BOT) procedures import
	$(BOT) dossiers demo
	touch $@

data: var/.imported

# Train only when no model exists or the training inputs changed; --force, because Rasa's own
# cache does not see changes to our component code.
models/.trained: $(VENV)/.installed $(TRAINING_INPUTS)
	$(RASA) train --force --domain domain --data data --config config.yml --out models --fixed-model-name assistant
	touch $@

train: models/.trained

run: data train
	scripts/run.sh

shell: data train
	$(RASA) run actions --actions actions --port $(ACTION_SERVER_PORT) >var/log/actions-shell.log 2>&1 & \
	trap "kill $$!" EXIT; $(RASA) shell --model models --endpoints endpoints.yml

validate: install
	$(RASA) data validate --fail-on-warnings --domain domain --data data --config config.yml

# Debian's Chromium for the widget test (tests/channels/test_widget.py); skipped when already there.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); } || \
	  echo "chromium not installed: the browser test will be skipped (or fail with REQUIRE_SERVICES=1)"

test: data train validate browser
	$(PY) -m pytest -q
	$(RASA) test core --model models --stories tests/stories --fail-on-prediction-errors --out results/core --endpoints endpoints.yml

test-fast: install
	$(PY) -m pytest -q -m "not slow"

# Replicas, faults and fuzz against the real PostgreSQL, Redis and RabbitMQ (also part of `make test`).
test-integration: data train
	$(PY) -m pytest -q tests/integration tests/resilience

evaluate: data train
	$(PY) scripts/evaluate.py

bench: data train
	$(PY) scripts/bench_search.py
	$(PY) scripts/bench_turns.py
	-$(PY) scripts/bench_dossiers.py
	$(PY) scripts/bench_zalo.py

bench-load: data train
	$(PY) scripts/bench_load.py --check

# Dockerfiles, compose file and Kubernetes manifests (Docker cannot run here).
lint-deploy: install
	scripts/lint_deploy.sh

clean:
	rm -rf models results var
