#!/usr/bin/env bash
# Idempotent install: system packages, a venv at tools/venv with the pinned Python packages,
# and this package in editable mode. A second run only checks a stamp and takes seconds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
venv="$here/venv"
python=${PYTHON:-python3}

bash "$here/install_system.sh"

stamp="$venv/.install-stamp"
want=$(cat "$here/requirements.txt" "$here/requirements-build-isolation-off.txt" "$root/setup.py" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "[install] venv up to date ($venv)"
  exit 0
fi

start=$(date +%s)
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip="$venv/bin/python -m pip"
$pip install -q --upgrade "pip<25" 
echo "[install] pip install -r tools/requirements.txt (torch + torchaudio + espnet in one call)"
$pip install -q -r "$here/requirements.txt"
echo "[install] pip install --no-build-isolation -r tools/requirements-build-isolation-off.txt"
$pip install -q --no-build-isolation -r "$here/requirements-build-isolation-off.txt"
echo "[install] pip install -e . (no deps)"
$pip install -q --no-deps -e "$root"
echo "$want" > "$stamp"
echo "[install] done in $(( $(date +%s) - start )) s; venv size $(du -sh "$venv" | cut -f1)"
