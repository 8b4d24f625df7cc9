#!/usr/bin/env bash
# `make run`: the whole demo on one machine with nothing else installed — SQLite under var/, the
# OpenAI sandbox, the demo tenant with its skills published, simulated GPT traffic, the
# telemetry poller every 60 s, a Celery worker on kombu's filesystem transport (var/celery/), and
# Claresia on http://127.0.0.1:8000 (WEB_PORT; the sandbox on SANDBOX_PORT, 8765). Ctrl-C stops
# everything.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBUG=true
export SANDBOX_PORT="${SANDBOX_PORT:-8765}"
SANDBOX="http://127.0.0.1:$SANDBOX_PORT"
WEB="http://127.0.0.1:${WEB_PORT:-8000}"
export OPENAI_API_BASE="$SANDBOX/v1"
export CHATGPT_ADMIN_API_BASE="$SANDBOX/v1"
# The sandbox serves its log files' signed URLs over plain http on loopback (claresia/settings.py).
export LOGS_DOWNLOAD_ALLOW_LOCAL_HTTP=true
export CLARESIA_HUB_BASE_URL="$WEB"
# Long work (publish, import, drift) goes to a real worker, as in production, so its progress
# page is live: the broker is a folder of message files (claresia/settings.py).
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-filesystem://}"
export CELERY_FILESYSTEM_FOLDER="${CELERY_FILESYSTEM_FOLDER:-$PWD/var/celery}"
PY=.venv/bin/python

# The same environment for every `.venv/bin/python manage.py <command>` run beside the demo
# (settings.py reads the git-ignored `.env`): a command talks to this sandbox and hub, never to
# OpenAI's real hosts.
scripts/demo_env.sh .env

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

wait_for() {  # URL
  for _ in $(seq 100); do
    $PY -c "import httpx; httpx.get('$1', timeout=0.5).raise_for_status()" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "demo: $1 did not answer; see var/*.log" >&2
  return 1
}

mkdir -p var "$CELERY_FILESYSTEM_FOLDER"/{queue,control,processed}
$PY manage.py migrate --noinput -v 0

.venv/bin/celery -A claresia worker --pool=threads --concurrency=2 --loglevel=INFO \
  --without-mingle --without-gossip --without-heartbeat > var/worker.log 2>&1 &
pids+=($!)

$PY manage.py openai_sandbox --port "${SANDBOX_PORT:-8765}" > var/sandbox.log 2>&1 &
pids+=($!)
wait_for "$SANDBOX/_sandbox/requests"

# The logins are printed once, at the end; the load's own lines now.
$PY manage.py load_demo --url "$WEB" > var/logins.txt
{ grep -v -E "tenant staff|Claresia staff|Claresia is at" var/logins.txt || true; } | sed '/^$/d'

$PY manage.py runserver "127.0.0.1:${WEB_PORT:-8000}" --noreload > var/web.log 2>&1 &
web=$!
pids+=($web)
wait_for "$WEB/healthz"

echo "Simulating a day of GPT use (Compliance Logs Platform files and hub records)…"
$PY manage.py demo_traffic --hub-url "$WEB" --once --backfill-hours 24 --per-tick 0 | tail -n 1
$PY manage.py demo_traffic --hub-url "$WEB" --backfill-hours 0 > var/traffic.log 2>&1 &
pids+=($!)
$PY manage.py poll_telemetry > var/poller.log 2>&1 &
pids+=($!)

cat <<TXT

Claresia is running on $WEB — Ctrl-C stops it.
  Command Center:  $WEB/command-center/
  Admin:           $WEB/admin/
$(grep -E "tenant staff|Claresia staff" var/logins.txt)
Logs: var/web.log, var/worker.log (publish, drift), var/sandbox.log, var/poller.log (every 60 s),
var/traffic.log (every 20 s).
TXT
wait "$web"
