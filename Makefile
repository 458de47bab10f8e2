# One virtualenv per checkout; every target installs what it needs, so a fresh clone needs no setup.
VENV ?= .venv
PY := $(VENV)/bin/python
export COSTCURVE_HOME ?= $(CURDIR)/data

.PHONY: install install-dev run test explore dev check bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,ui]"
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/costcurve refresh --offline

test: install browser postgres
	$(PY) -m pytest

# The explorer (costcurve serve) over the published warehouse; run `make run` first.
explore: install
	$(VENV)/bin/costcurve serve

# The instance `costcurve refresh` records its runs in ($COSTCURVE_HOME/dagster), so the UI shows them,
# and its history survives restarts; COSTCURVE_OFFLINE=1 makes the launchpad's default offline.
dev: install
	DAGSTER_HOME="$$($(PY) -m pipelines.resources)" $(VENV)/bin/dagster dev -w workspace.yaml

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The bench extra (dbt-duckdb, for the peer comparison) only here: the tests and the pipeline never need it.
bench: install
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data

# Headless Chromium for tests/report (Debian's package). Installed when missing and running as root;
# otherwise, or if apt-get fails, the report test skips and says why.
# PostgreSQL server binaries (Debian's package) for the DuckLake catalog tests, which start a throwaway
# cluster of their own; installed like chromium, and without them those tests skip and say why.
.PHONY: postgres
postgres:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
		|| echo "could not install postgresql: the DuckLake-on-PostgreSQL tests will skip"; \
	else echo "no PostgreSQL server binaries and not root: install Debian's postgresql for those tests"; fi

.PHONY: browser
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "could not install chromium: tests/report will skip its browser checks"; \
	else echo "no /usr/bin/chromium and not root: install Debian's chromium for tests/report"; fi
