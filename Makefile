# One virtualenv per checkout; every target installs what it needs, so a fresh clone needs no setup.
VENV ?= .venv
PY := $(VENV)/bin/python
export COSTCURVE_HOME ?= $(CURDIR)/data

.PHONY: install install-dev run test dev check bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,ui]"
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/costcurve refresh --offline

test: install
	$(PY) -m pytest

dev: install
	$(VENV)/bin/dagster dev -w workspace.yaml

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) data
