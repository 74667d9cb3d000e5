# The platform's commands. `make run` and `make test` work on a fresh machine with only
# Python 3.11+ and make: they create .venv and install the pinned dependencies first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCAL_PACKAGES := -e shared -e services/planning -e services/finance -e services/partnership -e services/monitoring -e services/console
PYTEST := $(BIN)/python -m pytest

CHROMIUM ?= /usr/bin/chromium

.PHONY: install chromium run infra test test-unit test-integration test-e2e bench seed-demo contracts-publish clean

# pip's and setuptools' chatter goes to var/install.log (shown only if the installation fails).
$(STAMP): requirements.txt requirements-dev.txt requirements.lock shared/pyproject.toml services/*/pyproject.toml
	@mkdir -p var
	@echo "Installo le dipendenze in $(VENV) (dettagli in var/install.log)…"
	@{ $(PYTHON) -m venv $(VENV) \
	  && $(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip \
	  && $(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements.lock \
	  && $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps $(LOCAL_PACKAGES); \
	} > var/install.log 2>&1 || { cat var/install.log; echo "Installazione non riuscita (var/install.log)" >&2; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

# The console's browser tests drive the system's Chromium: Debian's package, installed when missing
# (as root, or with sudo). Nothing downloads a browser at run time.
# chromium-l10n carries the Italian locale: date fields then read gg/mm/aaaa, as for the people using the console.
CHROMIUM_PACKAGES := chromium chromium-l10n
chromium:
	@{ test -x $(CHROMIUM) && test -e /usr/lib/chromium/locales/it.pak; } || { \
	  echo "Chromium (o la sua localizzazione) non trovato: installo i pacchetti Debian $(CHROMIUM_PACKAGES)"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq $(CHROMIUM_PACKAGES) >/dev/null || { apt-get update -qq && apt-get install -y -qq $(CHROMIUM_PACKAGES) >/dev/null; }; \
	  else sudo apt-get install -y -qq $(CHROMIUM_PACKAGES) >/dev/null; fi; }
	@test -x $(CHROMIUM) || { echo "Chromium non disponibile: installare i pacchetti Debian $(CHROMIUM_PACKAGES)" >&2; exit 1; }

run: install  ## start PostgreSQL, the broker, the four services and the console (Ctrl-C stops all)
	@$(BIN)/ambiti run

infra: install  ## start only PostgreSQL and the broker
	$(BIN)/ambiti infra

seed-demo: install
	$(BIN)/ambiti seed-demo

test: install chromium  ## every tier: unit, integration, end-to-end (one PostgreSQL and one broker per run)
	$(PYTEST) services shared tests

test-unit: install
	$(PYTEST) -m unit services shared tests

test-integration: install
	$(PYTEST) -m "integration" services shared tests

test-e2e: install chromium
	$(PYTEST) -m e2e tests

bench: install
	$(BIN)/python bench/run.py

# Record the schemas in contracts/ as published (new ones, and compatible changes); refuses a breaking change
contracts-publish: install
	$(BIN)/python -m ambiti_kit.testing.compat --publish

clean:
	rm -rf var/test $(VENV)
