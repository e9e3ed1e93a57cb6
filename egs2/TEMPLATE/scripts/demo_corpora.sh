#!/usr/bin/env bash
# The English mini corpus of the demos (egs2/librispeech/{sttatts1,dmel1}/demo.sh), synthesized
# by espeak-ng in the real corpora's layouts, so both recipes score the same held-out split.
#   demo_corpora.sh OUT [--with_cmu_arctic] [--nj N]   (N synthesis processes, default 2)
# Many voices with few utterances each (288 training voices, 10 h): the test voices are timbres
# training never had. With 12 voices (the first demo), and still with 72 voices / 2.4 h (the
# second), the model learned its training voices and sentences rather than speech: the held-out
# loss stopped falling long before the training loss. Synthesis takes about a minute.
set -euo pipefail
out=$1; shift
with_cmu_arctic=false
nj=2
while [ $# -gt 0 ]; do
  case "$1" in
    --with_cmu_arctic) with_cmu_arctic=true; shift ;;
    --nj) nj=$2; shift 2 ;;
    *) echo "$0: unknown option $1" >&2; exit 1 ;;
  esac
done
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') [demo] $*"; }
synth() { log "make_mini_corpus $*"; python -m espnet_ext.bin.make_mini_corpus --lang en --out "${out}" --nj "${nj}" "$@"; }

start=$(date +%s)
synth --layout librispeech --splits train-clean-100 dev-clean test-clean --num_speakers 160 --utts_per_speaker 40 \
  --eval_num_speakers 5 --eval_utts_per_speaker 15
synth --layout libritts --splits train-clean-100 dev-clean test-clean --num_speakers 128 --utts_per_speaker 28 \
  --eval_num_speakers 4 --eval_utts_per_speaker 10
if [ "${with_cmu_arctic}" = true ]; then
  synth --layout cmu_arctic --num_speakers 4 --utts_per_speaker 40
fi
log "corpora ready in $(( $(date +%s) - start )) s"
