#!/usr/bin/env bash
# make demo: synthesize an English mini corpus (LibriSpeech + LibriTTS + CMU Arctic layouts) with
# espeak-ng and run this recipe on it with the CPU-sized config.
#   ./demo.sh [run.sh options]          the demo: 1,800 steps, stages 1-8 in about 23 minutes on 2 cores
#   ./demo.sh --long [run.sh options]   the one-hour run of RESULTS.md: the same corpus, 6,000 steps
#                                       (tag sttatts_mini_long; stages 1-4 are reused if the demo ran)
set -euo pipefail
cd "$(dirname "$0")"
. ./path.sh

tag=sttatts_mini; steps="--max_epoch 18 --num_iters_per_epoch 100"
if [ "${1:-}" = --long ]; then
  shift
  tag=sttatts_mini_long; steps="--max_epoch 30 --num_iters_per_epoch 200"
fi
corpora=corpora
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') [demo] $*"; }
start=$(date +%s)
"${MAIN_ROOT}/egs2/TEMPLATE/scripts/demo_corpora.sh" "${corpora}" --with_cmu_arctic

export LIBRISPEECH=${corpora} LIBRITTS=${corpora} CMU_ARCTIC=${corpora}
# Training is bounded so that the whole demo fits in about 25 minutes on 2 cores: the STTATTS model
# and the judge ASR train side by side, one core each. Longer runs: see RESULTS.md.
./run.sh --train_config conf/sttatts_mini.yaml --tag "${tag}" --stage "${DEMO_START_STAGE:-1}" \
  --stop_stage "${DEMO_STOP_STAGE:-8}" --local_data_opts "--vc_test_prompts 4" \
  --train_args "${steps}" --judge_args "${steps}" "$@"
log "RESULTS: $(pwd)/exp/sttatts_${tag}/RESULTS.md; model zip: $(pwd)/exp/sttatts_${tag}/sttatts_${tag}.zip"
log "total wall time $(( $(date +%s) - start )) s"
log "listening page: $(pwd)/exp/sttatts_${tag}/samples/index.html"
