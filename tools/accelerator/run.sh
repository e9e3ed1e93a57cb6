#!/usr/bin/env bash
# The accelerator run (issue 16): stages 1-8 of egs2/librispeech/sttatts1 on one GPU, from a bare
# machine, in one call. Runs THERE, from the repository root (what tools/accelerator/prepare.sh
# prints):
#   bash tools/accelerator/run.sh --out "$OUT"
# 1. installs what the machine lacks without network (prepare.sh's wheels into /tmp/accel_site,
#    espeak-ng's .debs unpacked into /tmp/accel_espeak), 2. synthesizes the demo's 10-hour corpus
#    with every core, 3. runs stages 1-8 with --ngpu 1 and conf/sttatts_gpu.yaml (the judge ASR:
#    conf/judge_asr_gpu.yaml, on the same GPU), 4. writes into --out: RESULTS.md (stage 7's),
#    summary.md (device, stage times, steps per second, peak GPU memory), training_curves.png,
#    run.log, both train.logs and nvidia_smi.csv.
# The CPU dry run (tests/tools/test_accelerator.py) is the same script on a tiny corpus:
#   bash tools/accelerator/run.sh --ngpu 0 --corpus tiny --nj 1 --out D \
#     --train_args "--max_epoch 1 --num_iters_per_epoch 2 --num_workers 0 --batch_bins 400000" \
#     --inference_args "--batch_size 16 --beam_size 2 --maxlenratio 0.5"
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

ngpu=1                          # GPUs of stage 5; stages 3, 6 and 7 run on cuda when > 0 (0: the CPU dry run)
corpus=demo                     # demo: demo_corpora.sh's 10-hour corpus; tiny: a few utterances per split
out=${OUT:-${root}/exp_accelerator}  # RESULTS.md, summary.md, curves and logs
workdir=/tmp/accel_sttatts1     # the recipe runs here, in a folder of links to its files (emptied first)
nj=$(nproc)                     # processes of the synthesis and of stages 2 and 3
inference_nj=4                  # stage-6 decoding jobs (they share the one GPU)
inference_args="--batch_size 16"  # utterances per decoder batch in stage 6
train_config=conf/sttatts_gpu.yaml    # the model under test (200 s batches, bf16, 1,200 steps)
judge_config=conf/judge_asr_gpu.yaml  # the judge ASR, trained beside it on the same GPU
train_args=""                   # extra stage-4/5 options of both the model and the judge (the dry run: fewer steps)
tag=sttatts_gpu                 # exp/sttatts_<tag>, exp/judge_asr_<tag>
cache=${root}/tools/accelerator/cache  # prepare.sh's wheels/ and debs/
__declared_options=(ngpu corpus out workdir nj inference_nj inference_args train_config judge_config train_args tag cache)
help_message="Usage: $0 [options]: the STTATTS recipe, stages 1-8, on one GPU from a bare machine"
. "${root}/egs2/TEMPLATE/scripts/parse_options.sh"

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') [accelerator] $*"; }
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1  # no network there: fail at once rather than wait
mkdir -p "${out}"
out=$(cd "${out}" && pwd)  # the recipe runs in ${workdir}
timings="${workdir}.timings.tsv"  # step <TAB> milliseconds, for summary.md
: > "${timings}"
timed() {  # name command... : runs it and records its wall time
  local name=$1 start
  shift
  start=$(date +%s%N)
  log "${name}: $*"
  "$@"
  printf '%s\t%d\n' "${name}" "$(( ($(date +%s%N) - start) / 1000000 ))" >> "${timings}"
}

install_offline() {  # Python packages and espeak-ng, where missing
  if python3 -c "import espnet2, resemblyzer, librosa, jiwer, kaldiio, soundfile, pyworld, soxr" 2>/dev/null; then
    log "python packages: already importable"
  else
    [ -d "${cache}/wheels" ] || { log "${cache}/wheels missing: run tools/accelerator/prepare.sh and carry it"; exit 1; }
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/accel_site \
      "${cache}"/wheels/*.whl
    export PYTHONPATH="/tmp/accel_site${PYTHONPATH:+:${PYTHONPATH}}"
  fi
  if command -v espeak-ng > /dev/null; then
    log "espeak-ng: $(command -v espeak-ng)"
  else
    [ -d "${cache}/debs" ] || { log "${cache}/debs missing: run tools/accelerator/prepare.sh and carry it"; exit 1; }
    local d=/tmp/accel_espeak lib=/tmp/accel_espeak/usr/lib/x86_64-linux-gnu
    for deb in "${cache}"/debs/*.deb; do dpkg -x "${deb}" "${d}"; done
    # only espeak-ng sees the carried libraries: the Python processes keep the image's own
    mkdir -p "${d}/wrap"
    cat > "${d}/wrap/espeak-ng" <<EOF
#!/bin/sh
LD_LIBRARY_PATH=${lib}:${lib}/pulseaudio:${d}/lib/x86_64-linux-gnu ESPEAK_DATA_PATH=${lib} exec ${d}/usr/bin/espeak-ng "\$@"
EOF
    chmod +x "${d}/wrap/espeak-ng"
    export PATH="${d}/wrap:${PATH}"
    espeak-ng --version
  fi
  if ! command -v python > /dev/null; then  # the recipes' job launcher calls `python`
    mkdir -p /tmp/accel_bin && ln -sf "$(command -v python3)" /tmp/accel_bin/python
    export PATH="/tmp/accel_bin:${PATH}"
  fi
  export PYTHONPATH="${root}${PYTHONPATH:+:${PYTHONPATH}}"  # this tree's espnet_ext, uninstalled
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
}

synthesize() {  # the corpus into ${workdir}/corpora
  if [ "${corpus}" = demo ]; then
    "${root}/egs2/TEMPLATE/scripts/demo_corpora.sh" corpora --with_cmu_arctic --nj "${nj}"
    return
  fi
  local tiny="--splits train-clean-100 dev-clean test-clean --num_speakers 3 --utts_per_speaker 4 --eval_num_speakers 1 --eval_utts_per_speaker 2"
  for layout in librispeech libritts; do
    # shellcheck disable=SC2086
    python3 -m espnet_ext.bin.make_mini_corpus --lang en --out corpora --nj "${nj}" --no_progress --layout "${layout}" ${tiny}
  done
  python3 -m espnet_ext.bin.make_mini_corpus --lang en --out corpora --nj "${nj}" --no_progress --layout cmu_arctic \
    --num_speakers 2 --utts_per_speaker 6 --eval_utts_per_speaker 2
}

recipe() {  # stages 1-8
  local prompts=4
  [ "${corpus}" = tiny ] && prompts=2
  LIBRISPEECH=corpora LIBRITTS=corpora CMU_ARCTIC=corpora ./run.sh --stage 1 --stop_stage 8 --ngpu "${ngpu}" \
    --nj "${nj}" --inference_nj "${inference_nj}" --inference_args "${inference_args}" --tag "${tag}" \
    --train_config "${train_config}" --judge_config "${judge_config}" --local_data_opts "--vc_test_prompts ${prompts}" \
    --train_args "${train_args}" --judge_args "${train_args}"
}

start=$(date +%s)
timed install install_offline
rm -rf "${workdir}"
mkdir -p "${workdir}"
for f in run.sh sttatts.sh path.sh cmd.sh db.sh conf local scripts; do
  ln -s "${root}/egs2/librispeech/sttatts1/${f}" "${workdir}/${f}"
done
cd "${workdir}"
smi_pid=""
if [ "${ngpu}" -gt 0 ] && command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=timestamp,memory.used,memory.total,utilization.gpu --format=csv -l 2 > "${out}/nvidia_smi.csv" &
  smi_pid=$!
fi
timed synthesis synthesize
set +e
recipe 2>&1 | tee "${out}/run.log"
status=${PIPESTATUS[0]}
set -e
if [ -n "${smi_pid}" ]; then kill "${smi_pid}"; fi
log "recipe exit status ${status}; total wall time $(( $(date +%s) - start )) s"
exp="exp/sttatts_${tag}"
python3 "${root}/tools/accelerator/summarize.py" --run_log "${out}/run.log" --timings "${timings}" \
  --exp_dir "${exp}" --judge_dir "exp/judge_asr_${tag}" --ngpu "${ngpu}" --corpus "${corpus}" \
  --nvidia_smi "${out}/nvidia_smi.csv" --total_seconds "$(( $(date +%s) - start ))" --out "${out}/summary.md"
copy_out() {  # src name: into --out if it exists (at most 8 files come back from the device tool)
  if [ -f "$1" ]; then cp "$1" "${out}/$2"; fi
}
copy_out "${exp}/RESULTS.md" RESULTS.md
copy_out "${exp}/images/training_curves.png" training_curves.png
copy_out "${exp}/train.log" train_sttatts.log
copy_out "exp/judge_asr_${tag}/train.log" train_judge.log
cat "${out}/summary.md"
exit "${status}"
