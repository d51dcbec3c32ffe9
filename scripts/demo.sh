#!/usr/bin/env bash
# make demo: SQLite + the embedded filesystem broker, a Celery worker beside the dev server, demo data seeded.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py seed_demo
for command in $($PY manage.py help --commands | grep '^seed_demo_'); do $PY manage.py "$command"; done
$PY -m celery -A config worker -Q celery,training --concurrency 1 --loglevel WARNING &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo
echo "Verdict is running at http://127.0.0.1:8000/ (Ctrl-C stops the server and the worker)"
$PY manage.py runserver 127.0.0.1:8000 --noreload
