# LGS Reports: the user's verbs. Every target that needs Python depends on the
# .venv bootstrap, which (re)builds the virtualenv when it is missing or when
# pyproject.toml has changed.
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
STAMP := $(VENV)/.installed
# pyspark (about 450 MB) is the optional [spark] extra: `make venv SPARK=1` adds it, and
# `make test` and `make bench` always do, so that the Spark tests run for real in CI
SPARK_STAMP := $(VENV)/.spark-installed
LGS := $(BIN)/lgs

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
# make would export the raw command-line variables too, expanding them on the way
unexport PERIOD PERIODS JOBS PARAMS SOURCE FORCE RESEND DRY_RUN NEW_SOURCE SEGMENTS ON REPLACE SPARK

.PHONY: help venv report reports load etl etl-status drop-demo monthly campaign campaigns-status \
	test bench lint clean

help:
	@echo "make report PERIOD=2011 [FORCE=1] [PARAMS='name=value ...']  (also 2011-Q4, 2011-11)"
	@echo "make reports PERIODS=\"2011-01..2011-12\" [JOBS=2] [FORCE=1] [PARAMS=...]"
	@echo "                                   many periods in parallel (also \"2011-Q1 2011-Q2\","
	@echo "                                   \"2011-*\"); up-to-date ones are skipped"
	@echo "make load SOURCE=path/to/file      CSV, CSV.GZ, XLSX or the OLTP SQL dump"
	@echo "make etl [NEW_SOURCE=1]            sync from the OLTP database (LGS_SOURCE_URL)"
	@echo "make etl-status                    the last ETL runs"
	@echo "make drop-demo                     remove the generated demo data"
	@echo "make monthly [PERIOD=2011-11] [DRY_RUN=1] [RESEND=1]"
	@echo "                                   email the last complete month's report once"
	@echo "make campaign PERIOD=2011-09 [SEGMENTS=\"At Risk,Can't Lose\"] [ON=2011-10-03] [REPLACE=1]"
	@echo "                                   record a report's lists as sent (targets and holdout)"
	@echo "make campaigns-status              the recorded campaigns and whether they can be read out"
	@echo "make venv [SPARK=1]                the virtualenv; SPARK=1 adds pyspark (Spark warehouse)"
	@echo "make test   make bench   make lint   make clean"

$(STAMP): pyproject.toml
	@echo "setting up $(VENV): first run, or pyproject.toml changed (about a minute)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "  installing lgs-reports and its dependencies (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install --disable-pip-version-check --upgrade pip > $(VENV)/install.log 2>&1 \
	  && $(BIN)/python -m pip install --disable-pip-version-check -e '.[test]' >> $(VENV)/install.log 2>&1 \
	  || { tail -n 40 $(VENV)/install.log; echo "installing into $(VENV) failed: see $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)
	@echo "  $(VENV) is ready"

$(SPARK_STAMP): $(STAMP)
	@echo "  installing the [spark] extra (pyspark) into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install --disable-pip-version-check -e '.[test,spark]' >> $(VENV)/install.log 2>&1 \
	  || { tail -n 40 $(VENV)/install.log; echo "installing pyspark into $(VENV) failed: see $(VENV)/install.log"; exit 1; }
	@touch $(SPARK_STAMP)

venv: $(STAMP) $(if $(value SPARK),$(SPARK_STAMP))

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

test: $(STAMP) $(SPARK_STAMP)
	$(BIN)/python -m pytest tests

bench: $(STAMP) $(SPARK_STAMP)
	$(BIN)/python -m tests.bench

lint: $(STAMP)
	$(BIN)/ruff check lgs_analysis tests
	$(BIN)/ruff format --check lgs_analysis tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
