#!/usr/bin/env bash
# STTATTS recipe stages 1-8 (shared by every corpus folder; run.sh calls it with fixed options).
#   1 data preparation (local/data.sh)     5 training (+ the judge ASR for TTS intelligibility)
#   2 audio formatting + filtering         6 inference: ASR decoding, TTS and VC synthesis
#   3 speaker embeddings                   7 scoring -> exp/<tag>/RESULTS.md, samples/index.html
#   4 token list + collect stats           8 pack for the ESPnet model zoo
set -euo pipefail

cmdline="$0$(printf " %q" "$@")"  # quoted: the line in RESULTS.md reruns as is
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (${BASH_SOURCE[0]##*/}:${BASH_LINENO[0]}) $*"; }
run() {  # every stage logs its command line
  echo "$(date '+%Y-%m-%dT%H:%M:%S') (${BASH_SOURCE[1]##*/}:${BASH_LINENO[0]}) $*"
  "$@"
}

# General
stage=1; stop_stage=8
skip_data_prep=false; skip_train=false; skip_eval=false; skip_packing=false
ngpu=0; num_nodes=1; nj=2; inference_nj=2
gpu_inference=auto   # stages 3, 6, 7 on cuda: true, false, or auto (true when --ngpu > 0)
dumpdir=dump; expdir=exp; python=python3
# Data
local_data_opts=""; lang=en
max_bad_fraction=""   # stage 1 fails when more than this share of a split's lines is unreadable (empty: prepare_data's default)
train_set=train; valid_set=dev; test_sets=""
fs=16000; min_wav_duration=0.1; max_wav_duration=30
spk_embed_kind=dvector; spk_model_dir=""
# Tokens
token_list_from=""   # a SpeechT5/ArTST dict.txt or spm_char.model (required with --init_model)
# Training
tag=""; train_config=""; train_args=""; init_model=""; resume=true
judge_config=""; judge_args=""; train_judge=true
use_amp=""                     # stage 5, model and judge: true = bf16 autocast on CPU (ESPnet's AMP on GPU); "" = the config's
# stage 5 also trains a vocoder -> exp/vocoder_<type>; types hifigan, parallel_wavegan, istft (fastest on a CPU)
train_vocoder=false; vocoder_type=hifigan; vocoder_args=""
# Inference and scoring
inference_config=""; inference_args=""; inference_model=valid.loss.ave.pth
vocoder_file=""; judge_model=""
judge_opts="beam_size=5 ctc_weight=0.3"   # decoding options of the judge ASR in stage 7 (KEY=VALUE ...)
compare=""   # other systems' decode dirs ([LABEL=]DIR ...) added as columns of the listening page (stage 7)
__declared_options=(stage stop_stage skip_data_prep skip_train skip_eval skip_packing ngpu num_nodes nj
  inference_nj gpu_inference dumpdir expdir python local_data_opts max_bad_fraction lang train_set valid_set test_sets fs
  min_wav_duration max_wav_duration spk_embed_kind spk_model_dir token_list_from tag train_config
  train_args init_model resume judge_config judge_args train_judge use_amp inference_config inference_args
  inference_model vocoder_file judge_model judge_opts train_vocoder vocoder_type vocoder_args compare)
help_message="Usage: $0 --train_config conf/train.yaml --test_sets 'test_asr test_tts' [options]
Stages: 1 data prep, 2 format audio, 3 speaker embeddings, 4 tokens + stats, 5 train,
6 inference, 7 scoring, 8 packing. Rerun any range with --stage N --stop_stage M."

. ./path.sh
. ./cmd.sh
. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/parse_options.sh"

[ -n "${train_config}" ] || { log "--train_config is required"; exit 1; }
[ -n "${tag}" ] || tag="$(basename "${train_config}" .yaml)"
exp_dir="${expdir}/sttatts_${tag}"
stats_dir="${expdir}/sttatts_stats"
token_list="data/token_list/char/tokens.txt"
dump="${dumpdir}/raw"
all_sets="${train_set} ${valid_set} ${test_sets}"
[ "${skip_data_prep}" = true ] && { [ "${stage}" -lt 5 ] && stage=5; }
[ "${skip_train}" = true ] && { [ "${stage}" -eq 5 ] && stage=6; }
. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/inference_device.sh"  # gpu_inference -> device, inference_ngpu

. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/prepare_stages.sh"  # stages 1 (data prep) and 2 (format audio)

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
  log "Stage 3: speaker embeddings (${spk_embed_kind}, ${device})"
  for dset in ${all_sets}; do
    run ${python} -m espnet_ext.bin.extract_spk_embed --data "${dump}/${dset}" --kind "${spk_embed_kind}" \
      --categories tts vc --nj "${nj}" --device "${device}" \
      ${spk_model_dir:+--spk_model_dir "${spk_model_dir}"}
  done
fi

# Data options of STTATTS training and stats collection (names: espnet_ext.sttatts.data).
sttatts_data_opts() {  # mode(train|valid) set
  local d="${dump}/$2"
  echo "--$1_data_path_and_name_and_type ${d}/wav.scp,speech,sound" \
       "--$1_data_path_and_name_and_type ${d}/text,text,text" \
       "--$1_data_path_and_name_and_type ${d}/utt2category,category,text" \
       "--$1_data_path_and_name_and_type ${d}/${spk_embed_kind}.scp,spembs,kaldi_ark"
  [ -f "${d}/tgt_wav.scp" ] && echo "--$1_data_path_and_name_and_type ${d}/tgt_wav.scp,speech_tgt,optional_sound"
  return 0
}
# The judge ASR (a plain ESPnet ASR model) trains on the real audio of the ASR and TTS utterances.
judge_dir="${expdir}/judge_asr_${tag}"
voc_dir="${expdir}/vocoder_${vocoder_type}"
judge_stats="${expdir}/judge_asr_stats"
judge_token_list="data/token_list/judge_char/tokens.txt"
. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/judge_asr.sh"

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
  # shellcheck disable=SC2046
  run ${train_cmd} "${stats_dir}/logdir/stats.log" ${python} -m espnet_ext.bin.sttatts_train \
    --collect_stats true --config "${train_config}" --token_list "${token_list}" --ngpu 0 \
    $(sttatts_data_opts train "${train_set}") $(sttatts_data_opts valid "${valid_set}") \
    --train_shape_file "${dump}/${train_set}/wav.scp" --valid_shape_file "${dump}/${valid_set}/wav.scp" \
    --output_dir "${stats_dir}" ${train_args}
  [ "${train_judge}" = true ] && judge_stage4
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
  log "Stage 5: training -> ${exp_dir}"
  init_opts=""
  [ -n "${init_model}" ] && init_opts="--init_param ${init_model}"
  pids=()
  if [ "${train_judge}" = true ]; then
    judge_train &
    pids+=($!)
  fi
  if [ "${train_vocoder}" = true ]; then
    log "training a ${vocoder_type} vocoder in parallel -> ${voc_dir} (log: ${voc_dir}/train.log)"
    mkdir -p "${voc_dir}"
    # shellcheck disable=SC2086
    ${train_cmd} "${voc_dir}/train.log" ${python} -m espnet_ext.bin.train_vocoder --vocoder_type "${vocoder_type}" \
      --train_data_dir "${dump}/${train_set}" --valid_data_dir "${dump}/${valid_set}" --outdir "${voc_dir}" \
      ${vocoder_args} &
    pids+=($!)
  fi
  # shellcheck disable=SC2046
  run ${cuda_cmd} --gpu "${ngpu}" "${exp_dir}/train.log" ${python} -m espnet_ext.bin.sttatts_train \
    --config "${train_config}" --token_list "${token_list}" --ngpu "${ngpu}" \
    --multiprocessing_distributed true --resume "${resume}" --output_dir "${exp_dir}" ${init_opts} \
    ${use_amp:+--use_amp "${use_amp}"} \
    $(sttatts_data_opts train "${train_set}") $(sttatts_data_opts valid "${valid_set}") \
    --train_shape_file "${stats_dir}/train/speech_shape" --valid_shape_file "${stats_dir}/valid/speech_shape" \
    ${train_args} || {
      log "training failed, see ${exp_dir}/train.log"
      for pid in "${pids[@]+"${pids[@]}"}"; do kill -- "-${pid}" "${pid}" 2>/dev/null || true; done
      exit 1
    }
  for pid in "${pids[@]+"${pids[@]}"}"; do
    wait "${pid}" || { log "judge ASR / vocoder training failed, see ${judge_dir}/train.log and ${voc_dir}/train.log"; exit 1; }
  done
fi

# a vocoder trained by stage 5 synthesises stages 6-7 unless --vocoder_file names another one
[ -z "${vocoder_file}" ] && [ "${train_vocoder}" = true ] && vocoder_file="${voc_dir}"
# one decode dir per (decoding config, model, vocoder): a rerun with another vocoder keeps the others
decode_dir="${exp_dir}/decode_$(basename "${inference_config:-default}" .yaml)_${inference_model%.pth}"
[ -n "${vocoder_file}" ] && decode_dir+="_$(basename "${vocoder_file%/}" | sed 's/\.[^.]*$//')"
set_task() { head -n 1 "${dump}/$1/utt2category" | cut -d' ' -f2; }

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ] && [ "${skip_eval}" = false ]; then
  log "Stage 6: inference (${device}) -> ${decode_dir}"
  for dset in ${test_sets}; do
    task=$(set_task "${dset}")
    out="${decode_dir}/${dset}"
    logdir="${out}/logdir"
    rm -rf "${logdir}"  # a rerun must not merge the job folders of an earlier split (another --inference_nj)
    mkdir -p "${logdir}"
    nj=$(( inference_nj < $(wc -l < "${dump}/${dset}/wav.scp") ? inference_nj : $(wc -l < "${dump}/${dset}/wav.scp") ))
    split -n "l/${nj}" -d -a 3 --additional-suffix=.keys "${dump}/${dset}/wav.scp" "${logdir}/keys."
    for i in $(seq 0 $((nj - 1))); do mv "${logdir}/keys.$(printf '%03d' "$i").keys" "${logdir}/keys.$((i + 1)).scp"; done
    case "${task}" in
      asr) data_opts="--data_path_and_name_and_type ${dump}/${dset}/wav.scp,speech,sound" ;;
      tts) data_opts="--data_path_and_name_and_type ${dump}/${dset}/text,text,text
             --data_path_and_name_and_type ${dump}/${dset}/${spk_embed_kind}.scp,spembs,kaldi_ark" ;;
      vc)  data_opts="--data_path_and_name_and_type ${dump}/${dset}/wav.scp,speech,sound
             --data_path_and_name_and_type ${dump}/${dset}/${spk_embed_kind}.scp,spembs,kaldi_ark" ;;
      *) log "${dset}: unknown task '${task}' in utt2category"; exit 1 ;;
    esac
    # shellcheck disable=SC2086
    run ${decode_cmd} --gpu "${inference_ngpu}" JOB=1:"${nj}" "${logdir}/inference.JOB.log" \
      ${python} -m espnet_ext.bin.sttatts_inference --ngpu "${inference_ngpu}" --task "${task}" --train_config "${exp_dir}/config.yaml" --model_file "${exp_dir}/${inference_model}" \
      ${inference_config:+--config "${inference_config}"} ${data_opts} --key_file "${logdir}/keys.JOB.scp" \
      --output_dir "${logdir}/output.JOB" ${vocoder_file:+--vocoder_file "${vocoder_file}"} ${inference_args}
    run ${python} -m espnet_ext.bin.merge_decode --out "${out}" "${logdir}"/output.*
  done
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ] && [ "${skip_eval}" = false ]; then
  log "Stage 7: scoring (judge and speaker encoder on ${device}) -> ${exp_dir}/RESULTS.md"
  judge_spec=$(judge_spec_opts)
  # shellcheck disable=SC2086
  run ${python} -m espnet_ext.bin.score_sttatts --lang "${lang}" --exp_dir "${exp_dir}" --decode_dir "${decode_dir}" \
    --dump_dir "${dump}" --test_sets ${test_sets} --device "${device}" ${judge_spec} ${judge_opts:+--judge_opts ${judge_opts}} \
    ${vocoder_file:+--vocoder_file "${vocoder_file}"} --command "${cmdline}"
  cat "${exp_dir}/RESULTS.md"
  # shellcheck disable=SC2086
  run ${python} -m espnet_ext.bin.make_samples_page --lang "${lang}" --dump_dir "${dump}" --test_sets ${test_sets} \
    --system "${tag}=${decode_dir}" ${compare:+--compare ${compare}} ${vocoder_file:+--vocoder_file "${vocoder_file}"} \
    --out "${exp_dir}/samples"
  log "listening page: ${exp_dir}/samples/index.html"
fi

if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ] && [ "${skip_packing}" = false ]; then
  log "Stage 8: pack -> ${exp_dir}/sttatts_${tag}.zip"
  run ${python} -m espnet_ext.bin.pack_sttatts --exp_dir "${exp_dir}" --model_file "${exp_dir}/${inference_model}" \
    --out "${exp_dir}/sttatts_${tag}.zip"
fi
log "Successfully finished stages ${stage}-${stop_stage}"
