# LGS Reports: the user's verbs. Every target that needs Python depends on the
# .venv bootstrap, which (re)builds the virtualenv from the lock files when it is missing
# or when pyproject.toml or a lock file has changed.
#
# Values given on the command line (PERIOD, PERIODS, JOBS, PARAMS, SOURCE, FORCE, RESEND,
# DRY_RUN, NEW_SOURCE, SEGMENTS, ON, REPLACE)
# are untrusted: wrappers fill them in. They reach `lgs` only through the environment,
# taken with $(value ...), so neither make nor the shell ever expands or runs them; no
# recipe line below contains one.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LGS := $(BIN)/lgs
# .venv is built from the lock files (pinned versions with hashes), by uv, by
# lgs_analysis/environment.py (standard library only, so the bare interpreter runs it).
# Each stamp says which lock is installed: the base one for the user's verbs, the test
# one for test/lint/bench, the [spark] extra (pyspark, about 450 MB) for test/bench and
# `make venv SPARK=1`. A lock that no longer matches pyproject.toml stops the build:
# `make lock` compiles them again.
ENV_SCRIPT := lgs_analysis/environment.py
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.test-installed
SPARK_STAMP := $(VENV)/.spark-installed
INSTALL := $(PYTHON) $(ENV_SCRIPT) install --venv $(VENV)

export LGS_PERIOD = $(value PERIOD)
export LGS_PERIODS = $(value PERIODS)
export LGS_JOBS = $(value JOBS)
export LGS_PARAMS = $(value PARAMS)
export LGS_SOURCE = $(value SOURCE)
export LGS_FORCE = $(value FORCE)
export LGS_RESEND = $(value RESEND)
export LGS_DRY_RUN = $(value DRY_RUN)
export LGS_NEW_SOURCE = $(value NEW_SOURCE)
export LGS_SEGMENTS = $(value SEGMENTS)
export LGS_ON = $(value ON)
export LGS_REPLACE = $(value REPLACE)
export LGS_UPGRADE = $(value UPGRADE)
# make would export the raw command-line variables too, expanding them on the way
unexport PERIOD PERIODS JOBS PARAMS SOURCE FORCE RESEND DRY_RUN NEW_SOURCE SEGMENTS ON REPLACE \
	SPARK UPGRADE

.PHONY: help venv lock report reports load etl etl-status drop-demo monthly campaign \
	campaigns-status test bench lint clean

help:
	@echo "make report PERIOD=2011 [FORCE=1] [PARAMS='name=value ...']  (also 2011-Q4, 2011-11)"
	@echo "make reports PERIODS=\"2011-01..2011-12\" [JOBS=2] [FORCE=1] [PARAMS=...]"
	@echo "                                   many periods in parallel (also \"2011-Q1 2011-Q2\","
	@echo "                                   \"2011-*\"); up-to-date ones are skipped"
	@echo "make load SOURCE=path/to/file      CSV, CSV.GZ, XLSX, Parquet (or a folder of .parquet) or the OLTP SQL dump"
	@echo "make etl [NEW_SOURCE=1]            sync from the OLTP database (LGS_SOURCE_URL)"
	@echo "make etl-status                    the last ETL runs"
	@echo "make drop-demo                     remove the generated demo data"
	@echo "make monthly [PERIOD=2011-11] [DRY_RUN=1] [RESEND=1]"
	@echo "                                   email the last complete month's report once"
	@echo "make campaign PERIOD=2011-09 [SEGMENTS=\"At Risk,Can't Lose\"] [ON=2011-10-03] [REPLACE=1]"
	@echo "                                   record a report's lists as sent (targets and holdout)"
	@echo "make campaigns-status              the recorded campaigns and whether they can be read out"
	@echo "make venv [SPARK=1]                the virtualenv, from the lock files; SPARK=1 adds pyspark"
	@echo "make lock [UPGRADE=1]              compile the lock files from pyproject.toml (UPGRADE: newest)"
	@echo "make test   make bench   make lint   make clean"

$(STAMP): pyproject.toml requirements.lock $(ENV_SCRIPT)
	@echo "setting up $(VENV) from requirements.lock (log: $(VENV)/install.log)"
	@$(INSTALL) --sync requirements.lock
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements-test.lock
	@echo "  adding the test tools from requirements-test.lock"
	@$(INSTALL) requirements-test.lock
	@touch $(TEST_STAMP)

$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	@echo "  adding the [spark] extra (pyspark) from requirements-spark.lock"
	@$(INSTALL) requirements-spark.lock
	@touch $(SPARK_STAMP)

lock:
	@$(PYTHON) $(ENV_SCRIPT) lock --venv $(VENV)

venv: $(TEST_STAMP) $(if $(value SPARK),$(SPARK_STAMP))

report: $(STAMP)
	@$(LGS) report

reports: $(STAMP)
	@$(LGS) reports

load: $(STAMP)
	@$(LGS) load

etl: $(STAMP)
	@$(LGS) etl

etl-status: $(STAMP)
	@$(LGS) etl-status

drop-demo: $(STAMP)
	@$(LGS) drop-demo

monthly: $(STAMP)
	@$(LGS) monthly

campaign: $(STAMP)
	@$(LGS) campaign

campaigns-status: $(STAMP)
	@$(LGS) campaigns-status

test: $(TEST_STAMP) $(SPARK_STAMP)
	$(BIN)/python -m pytest tests

bench: $(TEST_STAMP) $(SPARK_STAMP)
	$(BIN)/python -m tests.bench

lint: $(TEST_STAMP)
	$(BIN)/ruff check lgs_analysis tests
	$(BIN)/ruff format --check lgs_analysis tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
