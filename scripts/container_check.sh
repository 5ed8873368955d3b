#!/usr/bin/env bash
# Build the image and run it against the stand-in Bot API: the start-up line must name the bot and
# `rolebot health` inside the container must pass. Usage: scripts/container_check.sh [extra build args]
# (e.g. --build-arg BASE=<local bookworm python3.11 image> where no registry is reachable).
# CHECK_MODE=chroot (root, podman): where the engine can build but not start containers (crun and
# hybrid cgroups), run the built image's files with chroot as its user, /data and /tmp bound in.
set -euo pipefail
cd "$(dirname "$0")/.."
# docker only when its daemon answers; otherwise podman (ENGINE= overrides)
if [ -z "${ENGINE:-}" ] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then ENGINE=docker; fi
engine=${ENGINE:-$(command -v podman)} || { echo "no running docker daemon and no podman" >&2; exit 2; }
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
token=123456789:AAAA-secretpart
base="http://127.0.0.1:$(cat "$port_file")/bot"
if [ "${CHECK_MODE:-}" = chroot ]; then
  root=$(podman image mount "$image")
  data=$(mktemp -d) tmp=$(mktemp -d)
  chown 10001:10001 "$data"; chmod 1777 "$tmp"
  mount --bind "$data" "$root/data"; mount --bind "$tmp" "$root/tmp"
  trap 'kill $fake $bot 2>/dev/null; umount "$root/data" "$root/tmp"; podman image unmount "$image" >/dev/null' EXIT
  in_image=(env -i PATH=/opt/rolebot/bin:/usr/bin:/bin ROLEBOT_DB=/data/rolebot.db HOME=/data
    "TELEGRAM_BOT_TOKEN=$token" "TELEGRAM_BASE_URL=$base" /usr/sbin/chroot --userspec=10001:10001 "$root")
  log=$(mktemp)
  "${in_image[@]}" rolebot run >"$log" 2>&1 &
  bot=$!  # env execs chroot execs rolebot: one process, so SIGTERM reaches the bot
  logs() { cat "$log"; }
  health() { "${in_image[@]}" rolebot health; }
  stop() { kill -TERM $bot; wait $bot; }
else
  "$engine" run -d --name rolebot-check --network host -e TELEGRAM_BOT_TOKEN=$token -e "TELEGRAM_BASE_URL=$base" \
    "$image" run >/dev/null
  logs() { "$engine" logs rolebot-check 2>&1; }
  health() { "$engine" exec rolebot-check rolebot health; }
  stop() { "$engine" stop rolebot-check >/dev/null; }
fi
for _ in $(seq 120); do logs | grep -q "started:" && break; sleep 1; done
logs | grep "started:"
sleep 6  # the heartbeat file is written every 5 s
health
stop
if logs | grep -q secretpart; then echo "token leaked" >&2; exit 1; fi
echo "container check passed"
