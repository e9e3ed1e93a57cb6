# The judge ASR of the recipes (sourced by sttatts.sh and dmel.sh): a plain ESPnet ASR model on the
# real audio of the asr/tts training utterances, trained beside the model under test (stage 5) and
# used by stage 7 to judge synthesized speech. It is never the model under test.
# Reads the caller's variables: python train_cmd cuda_cmd ngpu dump train_set valid_set resume judge_dir
# judge_stats judge_token_list judge_config judge_args use_amp.

judge_data_opts() {  # mode set
  echo "--$1_data_path_and_name_and_type ${dump}/$2/wav.scp,speech,sound" \
       "--$1_data_path_and_name_and_type ${dump}/$2/text,text,text"
}

judge_keys() {  # set -> key file of its asr/tts utterances
  awk '$2 == "asr" || $2 == "tts" {print $1}' "${dump}/$1/utt2category" > "${judge_stats}/$1.keys"
  echo "${judge_stats}/$1.keys"
}

judge_stage4() {  # character token list of the judge's training text, and its feature stats
  mkdir -p "${judge_stats}"
  awk '$2 == "asr" || $2 == "tts"' "${dump}/${train_set}/utt2category" | cut -d' ' -f1 \
    | awk 'NR==FNR {k[$1]=1; next} ($1 in k)' - "${dump}/${train_set}/text" | cut -d' ' -f2- > "${judge_stats}/train_text"
  run ${python} -m espnet2.bin.tokenize_text --token_type char --input "${judge_stats}/train_text" \
    --output "${judge_token_list}" --field 1- --write_vocabulary true \
    --add_symbol "<blank>:0" --add_symbol "<unk>:1" --add_symbol "<sos/eos>:-1"
  # shellcheck disable=SC2046,SC2086
  run ${train_cmd} "${judge_stats}/logdir/stats.log" ${python} -m espnet2.bin.asr_train \
    --collect_stats true --config "${judge_config:-conf/judge_asr_mini.yaml}" --use_preprocessor true --normalize none \
    --token_type char --token_list "${judge_token_list}" --ngpu 0 \
    $(judge_data_opts train "${train_set}") $(judge_data_opts valid "${valid_set}") \
    --train_shape_file "$(judge_keys "${train_set}")" --valid_shape_file "$(judge_keys "${valid_set}")" \
    --output_dir "${judge_stats}" ${judge_args}
}

judge_train() {  # stage 5, only as a background job: `judge_train &; pids+=($!)`
  log "training the judge ASR in parallel -> ${judge_dir} (log: ${judge_dir}/train.log)"
  # exec: $! is then the training job itself, which the recipes kill if the main training fails
  # shellcheck disable=SC2046,SC2086
  # on a GPU it shares the model's device(s) (--ngpu); ESPnet's ASR task with espnet_ext's trainer
  # (--use_amp true on CPU = bf16 autocast)
  exec ${cuda_cmd} --gpu "${ngpu}" "${judge_dir}/train.log" ${python} -m espnet_ext.bin.asr_train \
    --config "${judge_config:-conf/judge_asr_mini.yaml}" --use_preprocessor true --token_type char \
    --token_list "${judge_token_list}" --ngpu "${ngpu}" --resume "${resume}" --output_dir "${judge_dir}" \
    $(judge_data_opts train "${train_set}") $(judge_data_opts valid "${valid_set}") \
    --normalize_conf "stats_file=${judge_stats}/train/feats_stats.npz" \
    --train_shape_file "${judge_stats}/train/speech_shape" --valid_shape_file "${judge_stats}/valid/speech_shape" \
    ${use_amp:+--use_amp "${use_amp}"} ${judge_args}
}

judge_spec_opts() {  # stage 7: the --judge option of the scorers (--judge_model, else the trained judge)
  if [ -n "${judge_model}" ]; then
    echo "--judge ${judge_model}"
  elif [ -f "${judge_dir}/valid.acc.ave.pth" ]; then
    echo "--judge espnet:${judge_dir}/config.yaml,${judge_dir}/valid.acc.ave.pth"
  fi
}
