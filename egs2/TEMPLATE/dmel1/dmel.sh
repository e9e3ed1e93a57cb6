#!/usr/bin/env bash
# dMel recipe stages 1-8 (shared by every corpus folder; run.sh calls it with fixed options).
#   1 data preparation (local/data.sh)       5 training: one model per job (asr, tts, joint) + judge ASR
#   2 audio formatting + filtering           6 inference: ASR decoding, TTS synthesis + vocoder
#   3 d-vectors + dMel tokens                7 scoring + reconstruction check -> exp/dmel_<tag>/RESULTS.md
#                                            and the listening page exp/dmel_<tag>/samples/index.html
#   4 token list + collect stats             8 pack each model for the ESPnet model zoo
# Layout: exp/dmel_<tag>/{asr,tts,joint}/ (one ESPnet exp dir per job), exp/dmel_<tag>/RESULTS.md
# (every job side by side, and the reconstruction table), exp/dmel_<tag>/reconstruction/.
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
ngpu=0; nj=2; inference_nj=2
gpu_inference=auto   # stages 3, 6, 7 on cuda: true, false, or auto (true when --ngpu > 0)
dumpdir=dump; expdir=exp; python=python3
# Data
local_data_opts=""; lang=en
max_bad_fraction=""             # stage 1 fails when more than this share of a split's lines is unreadable (empty: prepare_data's default)
train_set=train; valid_set=dev; test_sets=""
recon_sets=""                  # sets of the reconstruction check (default: every ASR test set; none: skip it)
fs=16000; min_wav_duration=0.1; max_wav_duration=30
spk_embed_kind=dvector; spk_model_dir=""
# dMel tokens: frame rate and bits come from the train config's dmel_conf.
bin_table=""                   # "" = the config's (null: published uniform bins); "fit" = eqs 2-3 on the training set; or a .npy
recon_frame_rates="40 80"      # frame rates (Hz) compared by the reconstruction check
recon_max_utts=300             # a fixed random sample per set, as the paper's 300 of test-clean (0: all)
# Training
tag=""; train_config=""; train_args=""; resume=true
jobs="asr tts joint"           # one model per job (model_conf.job)
asr_train_args=""; tts_train_args="--grad_clip 1.0"; joint_train_args=""  # the paper clips TTS at 1.0
judge_config=""; judge_args=""; train_judge=true
use_amp=""                     # stage 5, model and judge: true = bf16 autocast on CPU (ESPnet's AMP on GPU); "" = the config's
# Inference and scoring
inference_model=valid.loss.ave.pth; inference_tag=default
asr_inference_args=""; tts_inference_args=""
vocoder_file=""; judge_model=""
judge_opts="beam_size=5 ctc_weight=0.3"   # judge decoding in stage 7 (KEY=VALUE ...); as sttatts.sh, so both read a judge alike
compare_tts=""                 # LABEL=<score.json> of another system's TTS set (e.g. STTATTS) for RESULTS.md
compare=""                     # other systems' decode dirs ([LABEL=]DIR ...) added as columns of the listening page
__declared_options=(stage stop_stage skip_data_prep skip_train skip_eval skip_packing ngpu nj inference_nj gpu_inference
  dumpdir expdir python local_data_opts max_bad_fraction lang train_set valid_set test_sets recon_sets fs min_wav_duration
  max_wav_duration spk_embed_kind spk_model_dir bin_table recon_frame_rates recon_max_utts tag train_config train_args
  resume jobs asr_train_args tts_train_args joint_train_args judge_config judge_args train_judge use_amp
  inference_model inference_tag asr_inference_args tts_inference_args vocoder_file judge_model judge_opts
  compare_tts compare)
help_message="Usage: $0 --train_config conf/dmel_mini.yaml --test_sets 'test_asr test_tts' [options]
Stages: 1 data prep, 2 format audio, 3 d-vectors + dMel tokens, 4 tokens + stats, 5 train,
6 inference, 7 scoring + reconstruction check, 8 packing. Rerun any range with --stage N --stop_stage M."

. ./path.sh
. ./cmd.sh
. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/parse_options.sh"

[ -n "${train_config}" ] || { log "--train_config is required"; exit 1; }
[ -n "${tag}" ] || tag="$(basename "${train_config}" .yaml)"
exp_root="${expdir}/dmel_${tag}"
stats_dir="${expdir}/dmel_stats_${tag}"
token_list="data/token_list/char/tokens.txt"
dump="${dumpdir}/raw"
all_sets="${train_set} ${valid_set} ${test_sets}"
[ "${skip_data_prep}" = true ] && { [ "${stage}" -lt 5 ] && stage=5; }
[ "${skip_train}" = true ] && { [ "${stage}" -eq 5 ] && stage=6; }
. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/inference_device.sh"  # gpu_inference -> device, inference_ngpu
for job in ${jobs}; do
  case "${job}" in asr|tts|joint) ;; *) log "unknown job '${job}' in --jobs (asr, tts, joint)"; exit 1 ;; esac
done

yaml_get() {  # file dotted.key default -> the value (default when absent or null)
  ${python} - "$@" <<'EOF'
import sys, yaml
path, key, default = sys.argv[1:4]
value = yaml.safe_load(open(path, encoding="utf-8")) or {}
for k in key.split("."):
    value = value.get(k) if isinstance(value, dict) else None
print(default if value is None else value)
EOF
}
set_task() { head -n 1 "${dump}/$1/utt2category" | cut -d' ' -f2; }
resolve_recon_sets() {  # default: every ASR test set (known once stage 2 has run); "none": no check
  [ "${recon_sets}" = none ] && { recon_sets=""; return 0; }
  [ -n "${recon_sets}" ] && return 0
  for dset in ${test_sets}; do
    [ -f "${dump}/${dset}/utt2category" ] && [ "$(set_task "${dset}")" = asr ] && recon_sets="${recon_sets:+${recon_sets} }${dset}"
  done
  return 0
}
# The bin table every tokenization uses (and the model then carries in its checkpoint).
case "${bin_table}" in
  "") table_path=$(yaml_get "${train_config}" dmel_conf.bin_table "") ;;
  fit) table_path="data/dmel/bin_table.npy" ;;
  *) table_path="${bin_table}" ;;
esac

. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/prepare_stages.sh"  # stages 1 (data prep) and 2 (format audio)

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
  frame_rate=$(yaml_get "${train_config}" dmel_conf.frame_rate_hz 40)
  n_bits=$(yaml_get "${train_config}" dmel_conf.n_bits 4)
  resolve_recon_sets
  log "Stage 3: speaker embeddings (${spk_embed_kind}) and dMel tokens (${frame_rate} Hz, ${n_bits} bits, bins: ${table_path:-published uniform})"
  for dset in ${all_sets}; do
    # The two read the same audio and write different files: they run side by side.
    run ${python} -m espnet_ext.bin.extract_spk_embed --data "${dump}/${dset}" --kind "${spk_embed_kind}" \
      --device "${device}" ${spk_model_dir:+--spk_model_dir "${spk_model_dir}"} &
    spk_pid=$!
    if [ "${bin_table}" = fit ] && [ "${dset}" = "${train_set}" ]; then
      table_opts="--fit_bin_table ${table_path}"  # the paper's eqs 2-3: min / max of the training set
    else
      table_opts="${table_path:+--bin_table ${table_path}}"
    fi
    # shellcheck disable=SC2086
    run ${python} -m espnet_ext.bin.dmel_tokenize --data "${dump}/${dset}" --frame_rate_hz "${frame_rate}" \
      --n_bits "${n_bits}" ${table_opts} || { kill "${spk_pid}" 2>/dev/null || true; log "dMel tokens of ${dset} failed"; exit 1; }
    wait "${spk_pid}" || { log "speaker embeddings of ${dset} failed"; exit 1; }
  done
  for dset in ${recon_sets}; do
    for rate in ${recon_frame_rates}; do  # tokens of the reconstruction check, one file per rate
      if [ "${rate}" = "${frame_rate}" ]; then  # the same tokens as the models': share the ark
        log "${dset}: dmel${rate}.{scp,yaml} = dmel.{scp,yaml}"
        cp "${dump}/${dset}/dmel.scp" "${dump}/${dset}/dmel${rate}.scp"
        cp "${dump}/${dset}/dmel.yaml" "${dump}/${dset}/dmel${rate}.yaml"
        continue
      fi
      # shellcheck disable=SC2086
      run ${python} -m espnet_ext.bin.dmel_tokenize --data "${dump}/${dset}" --frame_rate_hz "${rate}" \
        --n_bits "${n_bits}" --name "dmel${rate}" ${table_path:+--bin_table "${table_path}"}
    done
  done
fi

# Training data of the dMel LM: precomputed tokens, transcript, d-vector (used by TTS samples).
dmel_data_opts() {  # mode(train|valid) set
  local d="${dump}/$2"
  echo "--$1_data_path_and_name_and_type ${d}/dmel.scp,speech,kaldi_ark" \
       "--$1_data_path_and_name_and_type ${d}/text,text,text" \
       "--$1_data_path_and_name_and_type ${d}/${spk_embed_kind}.scp,spembs,kaldi_ark"
}
# The model gets the settings its tokens were made with (dump/raw/<train>/dmel.yaml, stage 3) and
# a speaker input of the d-vectors' size.
model_opts() {
  local conf="${dump}/${train_set}/dmel.yaml" table spk_dim cfg_dim
  [ -f "${conf}" ] || { log "${conf} not found: run stage 3 first"; exit 1; }
  echo "--dmel_conf frame_rate_hz=$(yaml_get "${conf}" dmel_conf.frame_rate_hz 40)" \
       "--dmel_conf n_bits=$(yaml_get "${conf}" dmel_conf.n_bits 4)"
  table=$(yaml_get "${conf}" dmel_conf.bin_table "")
  [ -n "${table}" ] && echo "--dmel_conf bin_table=${table}"
  spk_dim=$(${python} -c "import kaldiio, sys; print(next(iter(kaldiio.load_scp_sequential(sys.argv[1])))[1].shape[-1])" \
    "${dump}/${train_set}/${spk_embed_kind}.scp")
  cfg_dim=$(yaml_get "${train_config}" lm_conf.spk_embed_dim 512)
  if [ "${cfg_dim}" != 0 ] && [ "${cfg_dim}" != "${spk_dim}" ]; then
    log "lm_conf.spk_embed_dim ${cfg_dim} -> ${spk_dim}: the size of the ${spk_embed_kind}s in ${dump}/${train_set}" >&2
    echo "--lm_conf spk_embed_dim=${spk_dim}"
  fi
  return 0
}
# Which utterances each job trains on: asr -> the ASR utterances, tts -> the TTS utterances,
# joint -> all of them (each sample is then an ASR or a TTS sample, model_conf.asr_ratio).
write_job_shapes() {  # job mode(train|valid) set -> ${stats_dir}/<mode>/<job>/{speech,text}_shape
  local out="${stats_dir}/$2/$1" cat="" name
  mkdir -p "${out}"
  case "$1" in asr) cat=asr ;; tts) cat=tts ;; esac
  for name in speech_shape text_shape; do
    awk -v cat="${cat}" 'NR == FNR {c[$1] = $2; next} cat == "" || c[$1] == cat' \
      "${dump}/$3/utt2category" "${stats_dir}/$2/${name}" > "${out}/${name}"
    [ -s "${out}/${name}" ] || { log "no ${cat} utterances in ${dump}/$3 for the $1 model"; exit 1; }
  done
  log "$1 model, $2: $(wc -l < "${out}/speech_shape") utterances (${out})"
}
job_shape_opts() {  # job -> the shape-file options of its training
  local mode name
  for mode in train valid; do
    for name in speech_shape text_shape; do
      [ -f "${stats_dir}/${mode}/$1/${name}" ] || { log "${stats_dir}/${mode}/$1/${name} not found: run stage 4 with --jobs $1" >&2; exit 1; }
      echo "--${mode}_shape_file ${stats_dir}/${mode}/$1/${name}"
    done
  done
}
# The judge ASR (a plain ESPnet ASR model) trains on the real audio of the training utterances.
judge_dir="${expdir}/judge_asr_${tag}"
judge_stats="${expdir}/judge_asr_stats_${tag}"
judge_token_list="data/token_list/judge_char/tokens.txt"
. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/judge_asr.sh"

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
  log "Stage 4: token list and collect stats"
  run ${python} -m espnet_ext.bin.make_token_list --text "${dump}/${train_set}/text" --out "${token_list}"
  mkdir -p "${stats_dir}"
  cut -d' ' -f1 "${dump}/${train_set}/wav.scp" > "${stats_dir}/train.keys"
  cut -d' ' -f1 "${dump}/${valid_set}/wav.scp" > "${stats_dir}/valid.keys"
  opts=$(model_opts)
  # shellcheck disable=SC2046,SC2086
  run ${train_cmd} "${stats_dir}/logdir/stats.log" ${python} -m espnet_ext.bin.dmel_train \
    --collect_stats true --config "${train_config}" --token_list "${token_list}" --ngpu 0 ${opts} \
    $(dmel_data_opts train "${train_set}") $(dmel_data_opts valid "${valid_set}") \
    --train_shape_file "${stats_dir}/train.keys" --valid_shape_file "${stats_dir}/valid.keys" \
    --output_dir "${stats_dir}" ${train_args}
  for job in ${jobs}; do
    write_job_shapes "${job}" train "${train_set}"
    write_job_shapes "${job}" valid "${valid_set}"
  done
  [ "${train_judge}" = true ] && judge_stage4
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
  log "Stage 5: training (jobs: ${jobs}) -> ${exp_root}/<job>"
  opts=$(model_opts)
  for job in ${jobs}; do job_shape_opts "${job}" > /dev/null; done  # fail before the judge starts
  pids=()
  if [ "${train_judge}" = true ]; then
    judge_train &
    pids+=($!)
  fi
  stop_judge() { for pid in "${pids[@]+"${pids[@]}"}"; do kill -- "-${pid}" "${pid}" 2>/dev/null || true; done; }
  for job in ${jobs}; do
    job_args_var="${job}_train_args"
    shape_opts=$(job_shape_opts "${job}")
    # shellcheck disable=SC2046,SC2086
    run ${cuda_cmd} --gpu "${ngpu}" "${exp_root}/${job}/train.log" ${python} -m espnet_ext.bin.dmel_train \
      --config "${train_config}" --token_list "${token_list}" --ngpu "${ngpu}" --model_conf "job=${job}" ${opts} \
      --multiprocessing_distributed true --resume "${resume}" --output_dir "${exp_root}/${job}" \
      ${use_amp:+--use_amp "${use_amp}"} \
      $(dmel_data_opts train "${train_set}") $(dmel_data_opts valid "${valid_set}") \
      ${shape_opts} \
      ${train_args} ${!job_args_var} || {
        log "training failed, see ${exp_root}/${job}/train.log"
        stop_judge
        exit 1
      }
  done
  for pid in "${pids[@]+"${pids[@]}"}"; do
    wait "${pid}" || { log "judge ASR training failed, see ${judge_dir}/train.log"; exit 1; }
  done
fi

decode_name="decode_${inference_tag}_${inference_model%.pth}"

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ] && [ "${skip_eval}" = false ]; then
  log "Stage 6: inference -> ${exp_root}/<job>/${decode_name}"
  for job in ${jobs}; do
    for dset in ${test_sets}; do
      task=$(set_task "${dset}")
      case "${job}:${task}" in
        asr:asr|joint:asr)
          data_opts="--data_path_and_name_and_type ${dump}/${dset}/dmel.scp,speech,kaldi_ark"
          task_args="${asr_inference_args}" ;;
        tts:tts|joint:tts)
          data_opts="--data_path_and_name_and_type ${dump}/${dset}/text,text,text
            --data_path_and_name_and_type ${dump}/${dset}/${spk_embed_kind}.scp,spembs,kaldi_ark"
          task_args="${vocoder_file:+--vocoder_file ${vocoder_file}} ${tts_inference_args}" ;;
        asr:tts|tts:asr) log "${dset} (${task}): not a task of the ${job} model, not decoded"; continue ;;
        *) log "${dset}: unknown task '${task}' in utt2category"; exit 1 ;;
      esac
      out="${exp_root}/${job}/${decode_name}/${dset}"
      logdir="${out}/logdir"
      rm -rf "${logdir}"  # a rerun must not merge the job folders of an earlier split
      mkdir -p "${logdir}"
      n_utts=$(wc -l < "${dump}/${dset}/wav.scp")
      njobs=$(( inference_nj < n_utts ? inference_nj : n_utts ))
      split -n "l/${njobs}" -d -a 3 --additional-suffix=.keys "${dump}/${dset}/wav.scp" "${logdir}/keys."
      for i in $(seq 0 $((njobs - 1))); do mv "${logdir}/keys.$(printf '%03d' "$i").keys" "${logdir}/keys.$((i + 1)).scp"; done
      # shellcheck disable=SC2086
      run ${decode_cmd} --gpu "${inference_ngpu}" JOB=1:"${njobs}" "${logdir}/inference.JOB.log" \
        ${python} -m espnet_ext.bin.dmel_inference --device "${device}" --job "${task}" \
        --train_config "${exp_root}/${job}/config.yaml" --model_file "${exp_root}/${job}/${inference_model}" \
        ${data_opts} --key_file "${logdir}/keys.JOB.scp" --output_dir "${logdir}/output.JOB" ${task_args}
      run ${python} -m espnet_ext.bin.merge_decode --out "${out}" "${logdir}"/output.*
    done
  done
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ] && [ "${skip_eval}" = false ]; then
  resolve_recon_sets
  log "Stage 7: scoring and the reconstruction check (${recon_sets:-no set}: ${recon_frame_rates} Hz) -> ${exp_root}/RESULTS.md"
  judge_spec=$(judge_spec_opts)
  if [ -z "${judge_spec}" ]; then
    log "no judge ASR (--judge_model, or ${judge_dir}/valid.acc.ave.pth from stage 5): no TTS intelligibility, no reconstruction check"
  fi
  # shellcheck disable=SC2086
  run ${python} -m espnet_ext.bin.score_dmel --lang "${lang}" --exp_dir "${exp_root}" --jobs ${jobs} --device "${device}" \
    --decode_name "${decode_name}" --dump_dir "${dump}" --test_sets ${test_sets} \
    ${recon_sets:+--recon_sets ${recon_sets}} --recon_frame_rates ${recon_frame_rates} --recon_max_utts "${recon_max_utts}" \
    ${judge_spec} ${judge_opts:+--judge_opts ${judge_opts}} ${vocoder_file:+--vocoder_file "${vocoder_file}"} \
    ${compare_tts:+--compare_tts ${compare_tts}} \
    --command "${cmdline}"
  cat "${exp_root}/RESULTS.md"
  systems=()
  for job in ${jobs}; do systems+=(--system "${job}=${exp_root}/${job}/${decode_name}"); done
  # shellcheck disable=SC2086
  run ${python} -m espnet_ext.bin.make_samples_page --lang "${lang}" --dump_dir "${dump}" --test_sets ${test_sets} \
    "${systems[@]}" ${compare:+--compare ${compare}} ${vocoder_file:+--vocoder_file "${vocoder_file}"} \
    --out "${exp_root}/samples"
  log "listening page: ${exp_root}/samples/index.html"
fi

if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ] && [ "${skip_packing}" = false ]; then
  for job in ${jobs}; do
    log "Stage 8: pack -> ${exp_root}/${job}/dmel_${tag}_${job}.zip"
    run ${python} -m espnet_ext.bin.pack_sttatts --exp_dir "${exp_root}/${job}" \
      --model_file "${exp_root}/${job}/${inference_model}" ${vocoder_file:+--vocoder_file "${vocoder_file}"} \
      --out "${exp_root}/${job}/dmel_${tag}_${job}.zip"
  done
fi
log "Successfully finished stages ${stage}-${stop_stage}"
