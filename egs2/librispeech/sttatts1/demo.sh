#!/usr/bin/env bash
# make demo: synthesize an English mini corpus (LibriSpeech + LibriTTS + CMU Arctic layouts) with
# espeak-ng and run this recipe on it with the CPU-sized config.
set -euo pipefail
cd "$(dirname "$0")"
. ./path.sh

corpora=corpora
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') [demo] $*"; }
synth() { log "make_mini_corpus $*"; python -m espnet_ext.bin.make_mini_corpus --lang en --out "${corpora}" --nj 2 "$@"; }

start=$(date +%s)
synth --layout librispeech --splits train-clean-100 dev-clean test-clean --num_speakers 12 --utts_per_speaker 100
synth --layout libritts --splits train-clean-100 dev-clean test-clean --num_speakers 10 --utts_per_speaker 80
synth --layout cmu_arctic --num_speakers 4 --utts_per_speaker 40
log "corpora ready in $(( $(date +%s) - start )) s"

export LIBRISPEECH=${corpora} LIBRITTS=${corpora} CMU_ARCTIC=${corpora}
# Training is bounded so that the whole demo fits in about 25 minutes on 2 cores: the STTATTS model
# and the judge ASR train side by side, one core each. Longer runs: see RESULTS.md.
./run.sh --train_config conf/sttatts_mini.yaml --stage "${DEMO_START_STAGE:-1}" --stop_stage "${DEMO_STOP_STAGE:-8}" \
  --local_data_opts "--vc_test_prompts 4" \
  --train_args "--max_epoch 6 --num_iters_per_epoch 60 --scheduler_conf warmup_steps=150" \
  --judge_args "--max_epoch 10" "$@"
log "RESULTS: exp/sttatts_sttatts_mini/RESULTS.md; model zip: exp/sttatts_sttatts_mini/sttatts_sttatts_mini.zip"
log "total wall time $(( $(date +%s) - start )) s"
