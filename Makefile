# MaritimeIQ: one entry point for setup, the local stack, tests and benchmarks.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
VENV := .venv
BIN := $(VENV)/bin
JARS_STAMP := var/jars/.stamp
VENV_STAMP := $(VENV)/.stamp

.PHONY: help setup system-deps python-deps jars lock up down status demo test test-unit test-integration audit bench clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

setup: system-deps python-deps jars  ## install everything the platform needs on this machine

system-deps:  ## Debian packages: a JDK 17+, Maven; promtool and Chromium with its driver for the tests
	@if ! command -v java >/dev/null || ! command -v mvn >/dev/null || ! command -v promtool >/dev/null \
	    || ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  echo "installing openjdk-17-jdk-headless, maven, prometheus (promtool), chromium, chromium-driver"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    openjdk-17-jdk-headless maven prometheus chromium chromium-driver; \
	fi

python-deps: $(VENV_STAMP)  ## virtualenv with the locked Python dependencies

$(VENV_STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m pip install -q "uv==$(UV_VERSION)"
	$(PYTHON) -m uv venv -q --allow-existing --python $(PYTHON) $(VENV)
	$(PYTHON) -m uv pip install -q --python $(BIN)/python -r requirements.txt
	$(PYTHON) -m uv pip install -q --python $(BIN)/python --no-deps -e .
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

test: setup  ## the whole test suite (starts the services it needs)
	$(BIN)/pytest

audit: python-deps  ## secrets scan of tracked files and dependency vulnerability audit (run by CI)
	$(BIN)/python ops/audit.py

test-unit: setup
	$(BIN)/pytest -m "not integration"

test-integration: setup
	$(BIN)/pytest -m integration

bench: setup  ## benchmarks; results go to BENCHMARKS.md by hand with the machine described
	$(BIN)/maritime up kafka
	$(BIN)/python bench/producer_throughput.py
	$(BIN)/python bench/stack_footprint.py

clean: down  ## remove all local state (lake, broker data, Airflow and MLflow homes)
	rm -rf var
