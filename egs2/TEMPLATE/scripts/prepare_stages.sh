# Stages 1 and 2 of the recipes (sourced by sttatts.sh and dmel.sh; the same in both):
#   1 local/data.sh with ${local_data_opts} (and --max_bad_fraction when set): transcript lines without
#     text are kept, unparseable ones skipped with a warning naming file:line
#   2 16 kHz mono audio in dump/raw/<set>, duration / empty-text filter, dropped.txt per set
# Reads the caller's variables: stage stop_stage local_data_opts max_bad_fraction python all_sets dump fs nj
# min_wav_duration max_wav_duration, and its log / run functions.

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
  log "Stage 1: data preparation"
  # shellcheck disable=SC2086
  run local/data.sh ${max_bad_fraction:+--max_bad_fraction "${max_bad_fraction}"} ${local_data_opts}
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
  log "Stage 2: format audio (${fs} Hz mono), filter (${min_wav_duration}-${max_wav_duration} s, empty text)"
  for dset in ${all_sets}; do
    run ${python} -m espnet_ext.bin.format_audio --in "data/${dset}" --out "${dump}/${dset}" --fs "${fs}" \
      --min_sec "${min_wav_duration}" --max_sec "${max_wav_duration}" --nj "${nj}"
    log "${dset}: $(wc -l < "${dump}/${dset}/dropped.txt") dropped (${dump}/${dset}/dropped.txt)"
  done
fi
