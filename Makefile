# LGS Reports: the user's verbs. Every target that needs Python depends on the
# .venv bootstrap, which (re)builds the virtualenv when it is missing or when
# pyproject.toml has changed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LGS := $(BIN)/lgs

PERIOD ?=
SOURCE ?=
FORCE ?=
RESEND ?=
DRY_RUN ?=
PARAMS ?=

.PHONY: help venv report load etl etl-status monthly test bench lint clean

help:
	@echo "make report PERIOD=2011 [FORCE=1] [PARAMS='name=value ...']"
	@echo "make load SOURCE=path   make etl   make etl-status   make monthly"
	@echo "make test   make bench   make lint   make clean"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

report: $(STAMP)
	@test -n "$(PERIOD)" || { echo "PERIOD is required, e.g. make report PERIOD=2011 (forms: YYYY, YYYY-MM, YYYY-Qn)"; exit 2; }
	$(LGS) report --period "$(PERIOD)" $(if $(FORCE),--force) $(foreach p,$(PARAMS),-p $(p))

load: $(STAMP)
	@test -n "$(SOURCE)" || { echo "SOURCE is required, e.g. make load SOURCE=../shared/data/online_retail.csv.gz"; exit 2; }
	$(LGS) load "$(SOURCE)"

etl: $(STAMP)
	$(LGS) etl

etl-status: $(STAMP)
	$(LGS) etl-status

monthly: $(STAMP)
	$(LGS) monthly $(if $(PERIOD),--period "$(PERIOD)") $(if $(RESEND),--resend) $(if $(DRY_RUN),--dry-run)

test: $(STAMP)
	$(BIN)/python -m pytest tests

bench: $(STAMP)
	$(BIN)/python -m tests.bench

lint: $(STAMP)
	$(BIN)/ruff check lgs_analysis tests
	$(BIN)/ruff format --check lgs_analysis tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
