#!/usr/bin/env bash
# `make run`: migrate the local SQLite database, start the OpenAI sandbox, load the demo tenant
# and serve Claresia on http://127.0.0.1:8000. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBUG=true
SANDBOX="http://127.0.0.1:${SANDBOX_PORT:-8765}"
export OPENAI_API_BASE="$SANDBOX/v1"
export CLARESIA_HUB_BASE_URL="http://127.0.0.1:8000"
PY=.venv/bin/python

mkdir -p var
$PY manage.py migrate --noinput -v 0

$PY manage.py openai_sandbox --port "${SANDBOX_PORT:-8765}" > var/sandbox.log 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  if $PY -c "import httpx; httpx.get('$SANDBOX/_sandbox/requests', timeout=0.5).raise_for_status()" 2>/dev/null; then
    break
  fi
  sleep 0.2
done

$PY manage.py load_demo
$PY manage.py runserver 127.0.0.1:8000 --noreload
