#!/usr/bin/env bash
# make demo: synthesize an English mini corpus (LibriSpeech + LibriTTS + CMU Arctic layouts) with
# espeak-ng and run this recipe on it with the CPU-sized config.
set -euo pipefail
cd "$(dirname "$0")"
. ./path.sh

corpora=corpora
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') [demo] $*"; }
start=$(date +%s)
"${MAIN_ROOT}/egs2/TEMPLATE/scripts/demo_corpora.sh" "${corpora}" --with_cmu_arctic

export LIBRISPEECH=${corpora} LIBRITTS=${corpora} CMU_ARCTIC=${corpora}
# Training is bounded so that the whole demo fits in about 25 minutes on 2 cores: the STTATTS model
# and the judge ASR train side by side, one core each. Longer runs: see RESULTS.md.
./run.sh --train_config conf/sttatts_mini.yaml --stage "${DEMO_START_STAGE:-1}" --stop_stage "${DEMO_STOP_STAGE:-8}" \
  --local_data_opts "--vc_test_prompts 4" \
  --train_args "--max_epoch 18 --num_iters_per_epoch 100" \
  --judge_args "--max_epoch 18 --num_iters_per_epoch 100" "$@"
log "RESULTS: exp/sttatts_sttatts_mini/RESULTS.md; model zip: exp/sttatts_sttatts_mini/sttatts_sttatts_mini.zip"
log "total wall time $(( $(date +%s) - start )) s"
