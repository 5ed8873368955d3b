#!/usr/bin/env bash
# Build the image and run it against the stand-in Bot API: the start-up line must name the bot and
# `rolebot health` inside the container must pass. Usage: scripts/container_check.sh [extra build args]
# (e.g. --build-arg BASE=<local bookworm python3.11 image> where no registry is reachable).
set -euo pipefail
cd "$(dirname "$0")/.."
engine=$(command -v docker || command -v podman) || { echo "no docker or podman" >&2; exit 2; }
image=localhost/rolebot:check
"$engine" build -f deploy/Dockerfile -t "$image" "$@" .

# the stand-in runs on the host; the container shares the host network to reach it
port_file=$(mktemp)
.venv/bin/python - "$port_file" <<'PY' &
import sys, time
sys.path.insert(0, ".")
from tests.helpers.fakeapi import FakeBotAPI
with FakeBotAPI(token="123456789:AAAA-secretpart") as api:
    open(sys.argv[1], "w").write(str(api.port))
    time.sleep(120)
PY
fake=$!
trap 'kill $fake 2>/dev/null; "$engine" rm -f rolebot-check >/dev/null 2>&1 || true' EXIT
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.2; done
"$engine" run -d --name rolebot-check --network host \
  -e TELEGRAM_BOT_TOKEN=123456789:AAAA-secretpart -e "TELEGRAM_BASE_URL=http://127.0.0.1:$(cat "$port_file")/bot" \
  "$image" run >/dev/null
for _ in $(seq 120); do "$engine" logs rolebot-check 2>&1 | grep -q "started:" && break; sleep 1; done
"$engine" logs rolebot-check 2>&1 | grep "started:"
sleep 6  # the heartbeat file is written every 5 s
"$engine" exec rolebot-check rolebot health
if "$engine" logs rolebot-check 2>&1 | grep -q secretpart; then echo "token leaked" >&2; exit 1; fi
"$engine" stop rolebot-check >/dev/null
echo "container check passed"
