# MaritimeIQ: one entry point for setup, the local stack, tests and benchmarks.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
COMPOSE_VERSION := v2.39.2
VENV := .venv
BIN := $(VENV)/bin
JARS_STAMP := var/jars/.stamp
VENV_STAMP := $(VENV)/.stamp

.PHONY: help setup system-deps test-deps python-deps jars lock up down status demo test test-unit test-integration audit lint compose-plugin bench clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

setup: system-deps python-deps jars  ## install what the platform needs to run (JDK, Maven, the locked Python set, jars)

system-deps:  ## Debian packages the platform runs on: a JDK 17+, Maven, the PostgreSQL server (Airflow's metadata)
	@if ! command -v java >/dev/null || ! command -v mvn >/dev/null \
	    || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then \
	  echo "installing openjdk-17-jdk-headless, maven, postgresql"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    openjdk-17-jdk-headless maven postgresql; \
	fi

test-deps: compose-plugin  ## test-only tools: promtool, Chromium with its driver, the docker compose plugin
	@if ! command -v promtool >/dev/null || ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  echo "installing prometheus (promtool), chromium, chromium-driver for the tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    prometheus chromium chromium-driver; \
	fi

compose-plugin:  ## `docker compose` for the compose-file test, built from its Go module when the plugin is missing
	@if command -v docker >/dev/null && command -v go >/dev/null && ! docker compose version >/dev/null 2>&1; then \
	  echo "building the docker compose plugin $(COMPOSE_VERSION) from its Go module"; \
	  src=$$(go mod download -json github.com/docker/compose/v2@$(COMPOSE_VERSION) \
	         | $(PYTHON) -c 'import json, sys; print(json.load(sys.stdin)["Dir"])') && \
	  rm -rf var/build/compose && mkdir -p var/build "$$HOME/.docker/cli-plugins" && \
	  cp -r "$$src" var/build/compose && chmod -R u+w var/build/compose && \
	  (cd var/build/compose && go build -trimpath -o "$$HOME/.docker/cli-plugins/docker-compose" ./cmd) && \
	  rm -rf var/build/compose; \
	fi

python-deps: $(VENV_STAMP)  ## virtualenv with the locked Python dependencies

$(VENV_STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m pip install -q "uv==$(UV_VERSION)"
	$(PYTHON) -m uv venv -q --allow-existing --python $(PYTHON) $(VENV)
	$(PYTHON) -m uv pip install -q --python $(BIN)/python -r requirements.txt
	$(PYTHON) -m uv pip install -q --python $(BIN)/python --no-deps -e .
	@# pyspark ships as a source archive that uv builds into a new ~1.4 GB cache entry on
	@# every fresh install; dropping the entries nothing references keeps the cache bounded.
	$(PYTHON) -m uv cache prune -q
	touch $@

jars: $(JARS_STAMP)  ## Kafka broker and Spark connector jars from the Maven manifest

$(JARS_STAMP): jvm/pom.xml jvm/kafka-broker/pom.xml jvm/spark-connectors/pom.xml
	rm -rf var/jars
	cd jvm && mvn -B -q package
	touch $@

lock:  ## re-resolve requirements.in into the pinned requirements.txt
	$(PYTHON) -m uv pip compile requirements.in -o requirements.txt --python-version 3.11 --no-header -q

up: setup  ## start Kafka, MLflow and Airflow
	$(BIN)/maritime up

down:  ## stop every process the stack started
	$(BIN)/maritime down

status:  ## health of each component
	$(BIN)/maritime status

demo: setup  ## set up, start the stack and run the main pipeline
	$(BIN)/maritime demo

test: setup test-deps  ## the whole test suite (starts the services it needs)
	$(BIN)/pytest

audit: python-deps  ## secrets scan of tracked files and dependency vulnerability audit (run by CI)
	$(BIN)/python ops/audit.py

lint: python-deps  ## ruff lint and format check of the tree, mypy on the runtime library (run by CI)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-unit: setup test-deps
	$(BIN)/pytest -m "not integration"

test-integration: setup test-deps
	$(BIN)/pytest -m integration

bench: setup  ## every benchmark (SCALE=full, or quick to check the harness); JSON in bench/results/, table in BENCHMARKS.md
	$(BIN)/maritime up kafka
	$(BIN)/python bench/run_all.py --scale $(or $(SCALE),full)

clean: down  ## remove all local state (lake, broker data, Airflow and MLflow homes)
	rm -rf var
