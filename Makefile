# news-pipeline: every task people and CI run. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
LOCAL := $(CURDIR)/.local
# Use uv from PATH, else bootstrap a private copy from PyPI into .local/tools.
UV := $(or $(shell command -v uv 2>/dev/null),$(LOCAL)/tools/bin/uv)
BIN := $(CURDIR)/.venv/bin
NEWS := $(BIN)/news
AIRFLOW := $(BIN)/airflow
DEMO_DATE := 2024-01-07
API_PORT ?= 8080

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
export NEWS_LOCAL_DIR := $(LOCAL)
export NEWS_SOURCES_FILE ?= $(CURDIR)/seeds/sources.toml
# Airflow on one machine: SQLite, LocalExecutor, everything on 127.0.0.1.
export AIRFLOW_HOME := $(LOCAL)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__EXECUTOR := LocalExecutor
export AIRFLOW__CORE__PARALLELISM := 4
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN := sqlite:///$(LOCAL)/airflow/airflow.db
export AIRFLOW__API__HOST := 127.0.0.1
export AIRFLOW__API__PORT := $(API_PORT)
export AIRFLOW__API__BASE_URL := http://127.0.0.1:$(API_PORT)
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL := http://127.0.0.1:$(API_PORT)/execution/
export AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT := 8793
export AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT := 8794
# The S3 credentials and the aws_default connection come from the embedded store, never from a file in git.
WITH_S3 := eval "$$($(NEWS) s3 env)";

.PHONY: help install demo up down cluster-up cluster-down test test-cluster test-fast lint format bench eval clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(LOCAL)/tools/bin/uv:
	$(PYTHON) -m venv $(LOCAL)/tools
	$(LOCAL)/tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode  # imports read .pyc even where PYTHONDONTWRITEBYTECODE is set
	touch $@

install: .venv/.installed ## Create .venv from uv.lock (bootstraps uv when missing)

$(AIRFLOW_HOME)/.migrated: .venv/.installed
	mkdir -p $(AIRFLOW_HOME)
	$(AIRFLOW) db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || { tail -20 $(AIRFLOW_HOME)/migrate.log; exit 1; }
	$(AIRFLOW) pools set news_fetch 4 "news_ingest fetch tasks at once" >> $(AIRFLOW_HOME)/migrate.log 2>&1
	touch $@

# The demo's day of news: seeds/demo/ served on 127.0.0.1 (DEMO_FEED_PORT, or any free port when it is taken).
DEMO_FEED_PORT ?= 8781
DEMO_SOURCES := $(LOCAL)/demo-sources.toml
# SO_REUSEADDR as http.server sets it, so the last run's connections in TIME_WAIT do not count as taken.
FREE_PORT := import socket; busy = socket.socket().connect_ex(("127.0.0.1", $(DEMO_FEED_PORT))) == 0; \
	s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); \
	s.bind(("127.0.0.1", 0 if busy else $(DEMO_FEED_PORT))); print(s.getsockname()[1])

demo: install $(AIRFLOW_HOME)/.migrated ## Start S3 and a local feed server, run news_ingest then news_digest, show the digest
	$(NEWS) s3 up
	@port=$$($(BIN)/python -c '$(FREE_PORT)'); \
	sed -e "s|http://127.0.0.1:8781/|http://127.0.0.1:$$port/|" -e 's|^path = "../articles"|path = "$(CURDIR)/seeds/articles"|' \
		seeds/demo/sources.toml > $(DEMO_SOURCES); \
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory seeds/demo $$port > $(LOCAL)/demo-feeds.log 2>&1 & feeds=$$!; \
	trap 'kill $$feeds 2>/dev/null || true' EXIT; trap 'exit 130' INT TERM; \
	until $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', $$port), 1)" 2>/dev/null; do \
		kill -0 $$feeds 2>/dev/null || { cat $(LOCAL)/demo-feeds.log; exit 1; }; sleep 0.2; \
	done; \
	echo "== feeds of seeds/demo on http://127.0.0.1:$$port/ (sources: .local/demo-sources.toml)"; \
	export NEWS_SOURCES_FILE=$(DEMO_SOURCES); \
	echo "== airflow dags test news_ingest (log: .local/demo-ingest.log)"; \
	$(WITH_S3) $(AIRFLOW) dags test news_ingest > $(LOCAL)/demo-ingest.log 2>&1 \
		|| { tail -40 $(LOCAL)/demo-ingest.log; exit 1; }; \
	echo "== airflow dags test news_digest for $(DEMO_DATE) (log: .local/demo-digest.log)"; \
	$(WITH_S3) $(AIRFLOW) dags test news_digest -c '{"date": "$(DEMO_DATE)"}' > $(LOCAL)/demo-digest.log 2>&1 \
		|| { tail -40 $(LOCAL)/demo-digest.log; exit 1; }
	@$(NEWS) runs show --dag news_ingest
	@$(NEWS) articles list --date $(DEMO_DATE)
	@$(NEWS) digest show --date $(DEMO_DATE)

CHROMIUM := /usr/bin/chromium

# Browser tests use Debian's Chromium (Playwright's own browser download is not used).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	else echo "the browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi

# The cluster's metadata database and Celery broker: Debian's PostgreSQL and Redis (pg_ctlcluster comes with
# every Debian PostgreSQL, whatever its version).
CLUSTER_DEBS := /usr/bin/redis-server /usr/bin/pg_ctlcluster

$(CLUSTER_DEBS) &:
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq redis-server postgresql; \
	else echo "the cluster needs Debian's redis-server and postgresql: sudo apt-get install redis-server postgresql"; exit 1; fi

test: install $(CHROMIUM) ## Run every test (unit, integration on real SeaweedFS, DAGs, services, browser) but the cluster's
	$(BIN)/pytest

test-cluster: install $(CLUSTER_DEBS) ## The multi-node test: starts the cluster itself, kills a worker and a volume server
	$(BIN)/pytest -m cluster tests/cluster

test-fast: install ## Unit tests only
	$(BIN)/pytest tests/unit

lint: install ## ruff format --check, ruff check (with AIR rules), mypy --strict on src/
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: install ## Format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

AIRFLOW_SERVICES := api-server scheduler dag-processor triggerer
RUN := $(LOCAL)/run

up: install $(AIRFLOW_HOME)/.migrated ## Start S3 and Airflow (api-server, scheduler, dag-processor, triggerer) on 127.0.0.1
	$(NEWS) s3 up
	@mkdir -p $(RUN)
	@$(WITH_S3) for svc in $(AIRFLOW_SERVICES); do \
		if [ -f $(RUN)/$$svc.pid ] && kill -0 "$$(cat $(RUN)/$$svc.pid)" 2>/dev/null; then echo "$$svc already running"; continue; fi; \
		case $$svc in \
			api-server) args="--host 127.0.0.1 --port $(API_PORT) --workers 1";; \
			scheduler|triggerer) args="--skip-serve-logs";; \
			*) args="";; \
		esac; \
		setsid $(AIRFLOW) $$svc $$args > $(RUN)/$$svc.log 2>&1 < /dev/null & echo $$! > $(RUN)/$$svc.pid; \
		echo "started $$svc (log: .local/run/$$svc.log)"; \
	done
	@for i in $$(seq 1 120); do \
		$(BIN)/python -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:$(API_PORT)/api/v2/monitor/health", timeout=2)' 2>/dev/null && break; \
		if ! kill -0 "$$(cat $(RUN)/api-server.pid)" 2>/dev/null; then tail -30 $(RUN)/api-server.log; exit 1; fi; \
		sleep 1; \
	done
	@echo "Airflow UI: http://127.0.0.1:$(API_PORT)  user: admin  password: $$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["admin"])' $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated)"

eval: install ## Score enrichment on the labelled set in tests/eval (precision, recall, F1 per field)
	$(BIN)/python -m tests.eval.scoring

bench: install ## Benchmarks side by side with their baselines -> docs/benchmarks.md, bench/results.json
	$(BIN)/python bench/run.py

down: ## Stop Airflow and the embedded object store
	@for svc in $(AIRFLOW_SERVICES); do \
		if [ -f $(RUN)/$$svc.pid ]; then kill -TERM -- -"$$(cat $(RUN)/$$svc.pid)" 2>/dev/null && echo "stopped $$svc" || true; rm -f $(RUN)/$$svc.pid; fi; \
	done
	-@$(NEWS) s3 down

CLUSTER := $(BIN)/python docker/news_cluster.py

cluster-up: install $(CLUSTER_DEBS) ## Start the multi-node deployment here: Postgres, Redis, a SeaweedFS cluster, Celery workers
	$(CLUSTER) up

cluster-down: ## Stop every process of the cluster (its data stays in .local/cluster)
	@if [ -x $(BIN)/python ]; then $(CLUSTER) down; fi

clean: down cluster-down ## Remove .local (all local data) and .venv
	rm -rf $(LOCAL) .venv
