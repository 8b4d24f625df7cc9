#!/usr/bin/env bash
# Writes the demo's environment (exported by scripts/demo.sh) to FILE, `.env` for `make run`, which
# settings.py reads: every `manage.py` command run beside the demo then talks to its sandbox and
# hub. A FILE that this script did not write is someone's own and is left as it is.
set -euo pipefail
file="${1:?usage: demo_env.sh FILE}"
mark="# Written by make run (scripts/demo_env.sh) for the demo; the next make run rewrites it."
if [[ -e "$file" ]] && ! head -n 1 "$file" | grep -qxF "$mark"; then
  echo "demo: $file was not written by make run: left as it is (manage.py reads it)" >&2
  exit 0
fi
cat > "$file" <<ENV
$mark
DEBUG=true
SANDBOX_PORT=$SANDBOX_PORT
OPENAI_API_BASE=$OPENAI_API_BASE
CHATGPT_ADMIN_API_BASE=$CHATGPT_ADMIN_API_BASE
CLARESIA_HUB_BASE_URL=$CLARESIA_HUB_BASE_URL
CELERY_BROKER_URL=$CELERY_BROKER_URL
CELERY_FILESYSTEM_FOLDER=$CELERY_FILESYSTEM_FOLDER
ENV
