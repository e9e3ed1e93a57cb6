#!/usr/bin/env bash
# Synthesize an English mini corpus (LibriSpeech + LibriTTS layouts) with espeak-ng and run this
# recipe on it with the CPU-sized config: the separate ASR and TTS models, the joint model, the
# judge ASR and the reconstruction check, stages 1-8.
set -euo pipefail
cd "$(dirname "$0")"
. ./path.sh

corpora=corpora
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') [demo] $*"; }
start=$(date +%s)
"${MAIN_ROOT}/egs2/TEMPLATE/scripts/demo_corpora.sh" "${corpora}"

export LIBRISPEECH=${corpora} LIBRITTS=${corpora}
./run.sh --train_config conf/dmel_mini.yaml --stage 1 --stop_stage "${DEMO_STOP_STAGE:-8}" "$@"
log "total wall time $(( $(date +%s) - start )) s"
