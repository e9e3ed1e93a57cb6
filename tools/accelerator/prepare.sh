#!/usr/bin/env bash
# Runs HERE (a machine with network): puts into tools/accelerator/cache/ (ignored by git) what the
# bare accelerator machine lacks for tools/accelerator/run.sh -- cp312 manylinux wheels of espnet
# and the packages of ours that its image does not hold, and espeak-ng's .deb files with the
# libraries it loads -- checks that the working tree plus the cache fit in the 64 MiB that travel,
# and prints the carry list and the command for the device tool's `run`.
#   tools/accelerator/prepare.sh [--python_version 3.12] [--limit_mib 64]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "${here}/../.." && pwd)

python_version=3.12   # the accelerator's python3 (KINDS.md: Python 3.12.3)
limit_mib=64          # what travels with one call: working tree + carried paths
cache=tools/accelerator/cache   # relative to the repository root: the carry path
__declared_options=(python_version limit_mib cache)
help_message="Usage: $0 [options]: download wheels and .debs for tools/accelerator/run.sh"
. "${root}/egs2/TEMPLATE/scripts/parse_options.sh"
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') [prepare] $*"; }
run() { log "$*"; "$@"; }

# Packages our code imports there and the accelerator's image lacks (its list: KINDS.md, "Python
# packages already there"), at the versions of tools/venv (the tested ones) where it has them.
# Installed there with --no-deps: this list is the whole closure.
wheels=(
  espnet espnet_model_zoo resemblyzer
  # espnet's requirements missing there
  asteroid_filterbanks ci_sdr configargparse editdistance espnet_tts_frontend fast-bss-eval humanfriendly
  hydra-core omegaconf antlr4-python3-runtime importlib-metadata jamo kaldiio nltk pypinyin
  # pyworld publishes no cp312 wheel; pyworld-prebuilt is its build as wheels (the same module, pyworld)
  pyworld-prebuilt
  torch_complex typeguard
  # librosa and the audio I/O
  librosa audioread decorator pooch platformdirs soundfile cffi pycparser soxr
  # scoring
  jiwer rapidfuzz
  # resemblyzer's VAD: webrtcvad has no wheels on PyPI; webrtcvad-wheels builds the same module
  webrtcvad-wheels
)
# espeak-ng, its data and every library its binary loads that is not glibc (ldd here). run.sh unpacks
# them with dpkg -x and runs espeak-ng through a wrapper that alone sees these libraries.
debs=(espeak-ng libespeak-ng1 espeak-ng-data libpcaudio0 libsonic0 libasound2 libpulse0 libsndfile1 libasyncns0
  libflac12 libvorbis0a libvorbisenc2 libopus0 libogg0 libmpg123-0 libmp3lame0 libx11-6 libx11-xcb1 libxcb1
  libxau6 libxdmcp6 libbsd0 libmd0 libdbus-1-3 libsystemd0 libcap2 libgcrypt20 libgpg-error0 liblzma5
  libzstd1 liblz4-1)

cd "${root}"
mkdir -p "${cache}/wheels" "${cache}/debs"
pip_python=${PIP_PYTHON:-python3}
[ -x tools/venv/bin/python ] && pip_python=tools/venv/bin/python
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64 \
  manylinux2014_x86_64 manylinux1_x86_64; do platforms+=(--platform "$p"); done
installed=$("${pip_python}" -m pip list --format=freeze 2>/dev/null | tr 'A-Z_' 'a-z-')
pinned() {  # name -> name==version of tools/venv, or name
  local v
  v=$(echo "${installed}" | grep -m1 "^$(echo "$1" | tr 'A-Z_' 'a-z-')==" | cut -d= -f3 || true)
  echo "$1${v:+==${v}}"
}
log "wheels for cp${python_version/./} -> ${cache}/wheels"
for name in "${wheels[@]}"; do
  w=$(pinned "${name}")
  # wheels for the accelerator's Python; a package published only as source (ci_sdr, ...) is built
  # here into a wheel, which must then be pure Python (py3-none-any) to install there
  if ! "${pip_python}" -m pip download -q --no-deps --only-binary=:all: --python-version "${python_version}" \
    --implementation cp "${platforms[@]}" -d "${cache}/wheels" "$w"; then
    log "${w}: no wheel published; building one from its source"
    "${pip_python}" -m pip wheel -q --no-deps -w "${cache}/wheels" "$w"
  fi
done
# a wheel built here for another CPython (cp311-...) or for this machine alone (linux_x86_64) would not install there
impure=$(ls "${cache}/wheels" | grep -E -e "-cp3[0-9]+-" -e "-linux_x86_64\.whl$" | grep -v -e "-cp${python_version/./}-" || true)
[ -z "${impure}" ] || { log "wheels that will not install on cp${python_version/./}: ${impure}"; exit 1; }
# two versions of one package stop the whole install there (left by an earlier run with other pins)
twice=$(ls "${cache}/wheels" | sed 's/-[0-9].*//' | tr 'A-Z_' 'a-z-' | sort | uniq -d)
[ -z "${twice}" ] || { log "two versions of: ${twice}; delete the older wheels in ${cache}/wheels"; exit 1; }
log "espeak-ng .debs -> ${cache}/debs"
(cd "${cache}/debs" && run apt-get download "${debs[@]}")

tree_bytes=$(git ls-files -z --cached --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -n 1 | cut -f1)
cache_bytes=$(du -sb "${cache}" | cut -f1)
total_mib=$(( (tree_bytes + cache_bytes) / 1048576 ))
log "working tree $(( tree_bytes / 1024 )) KiB + cache $(( cache_bytes / 1024 )) KiB = ${total_mib} MiB (limit ${limit_mib} MiB)"
log "$(ls "${cache}/wheels" | wc -l) wheels, $(ls "${cache}/debs" | wc -l) .debs"
if [ $(( tree_bytes + cache_bytes )) -gt $(( limit_mib * 1048576 )) ]; then
  log "too large for one call: carry less"
  exit 1
fi
cat <<EOF
carry: ["${cache}"]
run (device tool), from the repository root, timeout_s 600:
  command: bash tools/accelerator/run.sh --out "\$OUT" 2>&1
  carry:   ["${cache}"]
EOF
