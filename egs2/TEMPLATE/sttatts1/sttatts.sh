#!/usr/bin/env bash
# STTATTS recipe stages 1-8 (shared by every corpus folder; run.sh calls it with fixed options).
#   1 data preparation (local/data.sh)     5 training (+ the judge ASR for TTS intelligibility)
#   2 audio formatting + filtering         6 inference: ASR decoding, TTS and VC synthesis
#   3 speaker embeddings                   7 scoring -> exp/<tag>/RESULTS.md
#   4 token list + collect stats           8 pack for the ESPnet model zoo
set -euo pipefail

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (${BASH_SOURCE[0]##*/}:${BASH_LINENO[0]}) $*"; }
run() { log "$*"; "$@"; }  # every stage logs its command line

# General
stage=1; stop_stage=8
skip_data_prep=false; skip_train=false; skip_eval=false; skip_packing=false
ngpu=0; num_nodes=1; nj=2; inference_nj=2; gpu_inference=false
dumpdir=dump; expdir=exp; python=python3
# Data
local_data_opts=""; lang=en
train_set=train; valid_set=dev; test_sets=""
fs=16000; min_wav_duration=0.1; max_wav_duration=30
spk_embed_kind=dvector; spk_model_dir=""
# Tokens
token_list_from=""   # a SpeechT5/ArTST dict.txt or spm_char.model (required with --init_model)
# Training
tag=""; train_config=""; train_args=""; init_model=""; resume=true
judge_config=""; judge_args=""; train_judge=true
# Inference and scoring
inference_config=""; inference_args=""; inference_model=valid.acc_asr.ave.pth
vocoder_file=""; judge_model=""
__declared_options=(stage stop_stage skip_data_prep skip_train skip_eval skip_packing ngpu num_nodes nj
  inference_nj gpu_inference dumpdir expdir python local_data_opts lang train_set valid_set test_sets fs
  min_wav_duration max_wav_duration spk_embed_kind spk_model_dir token_list_from tag train_config
  train_args init_model resume judge_config judge_args train_judge inference_config inference_args
  inference_model vocoder_file judge_model)
help_message="Usage: $0 --train_config conf/train.yaml --test_sets 'test_asr test_tts' [options]
Stages: 1 data prep, 2 format audio, 3 speaker embeddings, 4 tokens + stats, 5 train,
6 inference, 7 scoring, 8 packing. Rerun any range with --stage N --stop_stage M."

. ./path.sh
. ./cmd.sh
. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/parse_options.sh"

[ -n "${train_config}" ] || { log "--train_config is required"; exit 1; }
[ -n "${tag}" ] || tag="$(basename "${train_config}" .yaml)"
exp_dir="${expdir}/sttatts_${tag}"
stats_dir="${expdir}/sttatts_stats_${tag}"
token_list="data/token_list/char/tokens.txt"
dump="${dumpdir}/raw"
all_sets="${train_set} ${valid_set} ${test_sets}"
[ "${skip_data_prep}" = true ] && { [ "${stage}" -lt 5 ] && stage=5; }
[ "${skip_train}" = true ] && { [ "${stage}" -eq 5 ] && stage=6; }

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
  log "Stage 1: data preparation"
  # shellcheck disable=SC2086
  run local/data.sh ${local_data_opts}
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
  log "Stage 2: format audio (${fs} Hz mono), filter (${min_wav_duration}-${max_wav_duration} s, empty text)"
  for dset in ${all_sets}; do
    run ${python} -m espnet_ext.bin.format_audio --in "data/${dset}" --out "${dump}/${dset}" --fs "${fs}" \
      --min_sec "${min_wav_duration}" --max_sec "${max_wav_duration}" --nj "${nj}"
    log "${dset}: $(wc -l < "${dump}/${dset}/dropped.txt") dropped (${dump}/${dset}/dropped.txt)"
  done
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
  log "Stage 3: speaker embeddings (${spk_embed_kind})"
  for dset in ${all_sets}; do
    run ${python} -m espnet_ext.bin.extract_spk_embed --data "${dump}/${dset}" --kind "${spk_embed_kind}" \
      ${spk_model_dir:+--spk_model_dir "${spk_model_dir}"}
  done
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
  log "Stage 4: token list and collect stats"
  if [ -n "${token_list_from}" ]; then
    case "${token_list_from}" in
      *.model) run ${python} -m espnet_ext.bin.make_token_list --from_spm "${token_list_from}" --out "${token_list}" ;;
      *) run ${python} -m espnet_ext.bin.make_token_list --from_dict "${token_list_from}" --out "${token_list}" ;;
    esac
  else
    run ${python} -m espnet_ext.bin.make_token_list --text "${dump}/${train_set}/text" --out "${token_list}"
  fi
  sttatts_stage_collect_stats
fi
