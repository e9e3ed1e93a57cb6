#!/usr/bin/env bash
# System packages through apt: espeak-ng (corpus synthesis), sox, libsndfile1 (audio I/O), chromium
# (headless, the listening page's test).
set -euo pipefail
pkgs=(espeak-ng sox libsndfile1 chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[install_system] ${pkgs[*]} already installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "[install_system] installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
