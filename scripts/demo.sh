#!/usr/bin/env bash
# make demo: SQLite + the embedded filesystem broker, Celery workers beside the dev server, demo data seeded.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
$PY manage.py migrate --noinput
# DEBUG is off: WhiteNoise serves htmx and the CSS from staticfiles/ (hashed, compressed names).
$PY manage.py collectstatic --noinput --verbosity 0
$PY manage.py seed_demo
for command in $($PY manage.py help --commands | grep '^seed_demo_'); do $PY manage.py "$command"; done
# Training has its own worker (concurrency 1), so a long run never holds up dashboard refreshes on the default queue.
$PY -m celery -A config worker -Q training --concurrency 1 --hostname training@%h --loglevel WARNING &
training_worker=$!
$PY -m celery -A config worker -Q celery --concurrency 1 --hostname default@%h --loglevel WARNING &
default_worker=$!
# Celery beat sends the periodic sweep that records runs whose worker went silent as lost (schedule file in var/).
$PY -m celery -A config beat --schedule var/celerybeat-schedule --loglevel WARNING &
beat=$!
trap 'kill $training_worker $default_worker $beat 2>/dev/null || true' EXIT INT TERM
echo
echo "Verdict is running at http://127.0.0.1:8000/ (Ctrl-C stops the server, the workers and beat)"
$PY manage.py runserver 127.0.0.1:8000 --noreload
