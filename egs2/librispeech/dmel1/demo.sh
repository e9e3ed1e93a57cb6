#!/usr/bin/env bash
# Synthesize an English mini corpus (LibriSpeech + LibriTTS layouts) with espeak-ng and run this
# recipe on it with the CPU-sized config: the separate ASR and TTS models, the joint model, the
# judge ASR and the reconstruction check, stages 1-8.
set -euo pipefail
cd "$(dirname "$0")"
. ./path.sh

corpora=corpora
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') [demo] $*"; }
synth() { log "make_mini_corpus $*"; python -m espnet_ext.bin.make_mini_corpus --lang en --out "${corpora}" --nj 2 "$@"; }

start=$(date +%s)
synth --layout librispeech --splits train-clean-100 dev-clean test-clean --num_speakers 12 --utts_per_speaker 100
synth --layout libritts --splits train-clean-100 dev-clean test-clean --num_speakers 10 --utts_per_speaker 80
log "corpora ready in $(( $(date +%s) - start )) s"

export LIBRISPEECH=${corpora} LIBRITTS=${corpora}
./run.sh --train_config conf/dmel_mini.yaml --stage 1 --stop_stage "${DEMO_STOP_STAGE:-8}" "$@"
log "total wall time $(( $(date +%s) - start )) s"
