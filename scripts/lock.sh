#!/usr/bin/env bash
# Rebuild requirements.lock from a fresh venv with every extra: the versions CI and fresh machines get.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q ".[test,bench,train]"
{ echo "# Versions the tests passed with; used as pip constraints (-c) by the README and CI. Rebuild: scripts/lock.sh"
  "$tmp/venv/bin/pip" freeze --exclude-editable | grep -v '^rolebot' ; } > requirements.lock
echo "requirements.lock: $(grep -vc '^#' requirements.lock) pins"
