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

test: install browser
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

# Headless Chromium for tests/report (Debian's package). Installed when missing and running as root;
# otherwise, or if apt-get fails, the report test skips and says why.
.PHONY: browser
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "could not install chromium: tests/report will skip its browser checks"; \
	else echo "no /usr/bin/chromium and not root: install Debian's chromium for tests/report"; fi
