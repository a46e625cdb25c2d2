# The two commands of the README: `make run` serves the demo site, `make test` runs the suite.
# Everything else here supports them; `scripts/check` is the lint/type gate CI also runs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?= var

CATALOG_STAMP := src/emaildesk/locale/.compiled-stamp
PO_FILES := $(wildcard src/emaildesk/locale/*/LC_MESSAGES/emaildesk.po)

.PHONY: run test check catalogs install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dkim]"
	touch $(STAMP)

install: $(STAMP) catalogs

catalogs: $(CATALOG_STAMP)

# The .mo files are build output: compiled again only when a catalog changed.
$(CATALOG_STAMP): $(PO_FILES) $(STAMP)
	PYTHON=$(BIN)/python scripts/compile-catalogs > /dev/null
	touch $@

run: install
	$(BIN)/emaildesk --data-dir $(DATA) init --demo --if-new
	$(BIN)/emaildesk --data-dir $(DATA) serve

test: install
	$(BIN)/python -m pytest -q

check: install
	scripts/check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(CATALOG_STAMP)
