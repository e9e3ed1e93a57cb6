#!/usr/bin/env bash
# The English mini corpus of the demos (egs2/librispeech/{sttatts1,dmel1}/demo.sh), synthesized
# by espeak-ng in the real corpora's layouts, so both recipes score the same held-out split.
#   demo_corpora.sh OUT [--with_cmu_arctic]
# Many voices with few utterances each: the test voices are timbres training never had, and 12
# training voices (the first demo) left a large gap between the training and held-out losses.
set -euo pipefail
out=$1; shift
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') [demo] $*"; }
synth() { log "make_mini_corpus $*"; python -m espnet_ext.bin.make_mini_corpus --lang en --out "${out}" --nj 2 "$@"; }

start=$(date +%s)
synth --layout librispeech --splits train-clean-100 dev-clean test-clean --num_speakers 40 --utts_per_speaker 30 \
  --eval_num_speakers 5 --eval_utts_per_speaker 15
synth --layout libritts --splits train-clean-100 dev-clean test-clean --num_speakers 32 --utts_per_speaker 25 \
  --eval_num_speakers 4 --eval_utts_per_speaker 10
if [ "${1:-}" = --with_cmu_arctic ]; then
  synth --layout cmu_arctic --num_speakers 4 --utts_per_speaker 40
fi
log "corpora ready in $(( $(date +%s) - start )) s"
