# Linli — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint lock schema worker life-safety-worker web migrate demo bench clean browser console-test system-deps

# The versions CI tested: requirements.lock (with hashes) pins every package; `make lock`
# re-resolves it from pyproject.toml's ranges.
$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required (looked for $(PYTHON))"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	@touch $(STAMP)

# What the machine itself needs: pango for WeasyPrint (after-action reports as PDF) and the
# Noto CJK fonts to print Chinese with. Installed with apt-get where missing (Debian/Ubuntu);
# elsewhere it says what to install.
# `make test` adds chromium for the console's browser tests; `make run` does not need it.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk
system-deps:
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	    $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(SYSTEM_PACKAGES); \
	  else echo "install pango and a CJK font (Noto Sans CJK SC) for PDF reports: $(SYSTEM_PACKAGES)"; fi; }

lock:
	@test -x $(VENV)/bin/pip-compile || $(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --upgrade --extra dev --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

demo: migrate system-deps
	$(PY) manage.py load_demo_data --if-empty

run: demo
	$(PY) manage.py serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: lint system-deps browser
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The console's browser tests drive Debian's chromium (Playwright, no browser download);
# CJK fonts make their screenshots readable. Installing needs root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	    $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-noto-cjk; \
	  else echo "install chromium for the console's browser tests"; fi; }

console-test: browser $(STAMP)
	$(PY) -m pytest -q tests/console

schema: $(STAMP)
	$(PY) manage.py export_schema

# Production-like footing (DATABASE_URL and REDIS_URL set): web and worker as processes.
web: $(STAMP)
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py serve --no-worker --host $${HOST:-127.0.0.1} --port $${PORT:-8000} --workers $${WEB_CONCURRENCY:-2}

# One box: every queue (the default one and life_safety) with beat.
worker: $(STAMP)
	$(VENV)/bin/celery -A backend worker -B --loglevel INFO --concurrency $${WORKER_CONCURRENCY:-4}

# More boxes: workers of the life_safety queue alone (alerts, safety checks, their SMS).
life-safety-worker: $(STAMP)
	$(VENV)/bin/celery -A backend worker -Q life_safety --hostname life_safety@%h --loglevel INFO --concurrency $${LIFE_SAFETY_CONCURRENCY:-4}

bench: $(STAMP)
	@ls bench/*.py | sed 's/^/  /'; echo "run one with: $(PY) bench/<name>.py"

clean:
	rm -rf $(VENV) db.sqlite3
