#!/usr/bin/env bash
# Stage 1 for the English dMel recipe: LibriSpeech (ASR) and LibriTTS (TTS) from their own layouts
# into Kaldi-style data dirs with utt2category (the paper trains ASR on LibriSpeech and TTS on
# LibriSpeech or LibriTTS). Held out: LibriSpeech test-clean (ASR and the reconstruction check)
# and LibriTTS test-clean (TTS). Set names match egs2/librispeech/sttatts1, so the two recipes'
# figures on the same split can be put side by side.
set -euo pipefail

asr_train_sets="train-clean-100"
tts_train_sets="train-clean-100"
tts_corpus=libritts   # libritts | librispeech (the paper's LibriSpeech-only TTS setting)
asr_dev_set=dev-clean
tts_dev_set=dev-clean
asr_test_sets="test-clean"
tts_test_sets="test-clean"
normalize=en          # lowercase, no punctuation, as the papers score
max_bad_fraction=""   # fail when more than this share of a split's lines is unreadable (empty: prepare_data's default)
__declared_options=(asr_train_sets tts_train_sets tts_corpus asr_dev_set tts_dev_set asr_test_sets tts_test_sets normalize max_bad_fraction)
help_message="Usage: local/data.sh [options]  (corpus roots come from db.sh)"

. ./path.sh
. ./db.sh
. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/parse_options.sh"

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (${BASH_SOURCE[0]##*/}:${BASH_LINENO[0]}) $*"; }

case "${tts_corpus}" in
  libritts) tts_root=${LIBRITTS}; tts_prefix=ltts; tts_suffix="" ;;
  # The same recordings then serve both tasks: a suffix keeps the utterance ids apart.
  librispeech) tts_root=${LIBRISPEECH}; tts_prefix=ls_tts; tts_suffix=_tts ;;
  *) log "unknown --tts_corpus ${tts_corpus} (libritts or librispeech)"; exit 1 ;;
esac

prep() {  # corpus root split category out [utt_suffix]
  log "prepare_data --corpus $1 --split $3 --category $4 -> $5"
  python -m espnet_ext.bin.prepare_data --corpus "$1" --root "$2" --split "$3" --category "$4" \
    --normalize "${normalize}" --out "$5" ${6:+--utt_suffix "$6"} \
    ${max_bad_fraction:+--max_bad_fraction "${max_bad_fraction}"}
}
name() { echo "${1//-/_}"; }

train_dirs=()
for s in ${asr_train_sets}; do prep librispeech "${LIBRISPEECH}" "$s" asr "data/ls_$(name "$s")"; train_dirs+=("data/ls_$(name "$s")"); done
for s in ${tts_train_sets}; do
  prep "${tts_corpus}" "${tts_root}" "$s" tts "data/${tts_prefix}_$(name "$s")" "${tts_suffix}"
  train_dirs+=("data/${tts_prefix}_$(name "$s")")
done
prep librispeech "${LIBRISPEECH}" "${asr_dev_set}" asr "data/ls_$(name "${asr_dev_set}")"
prep "${tts_corpus}" "${tts_root}" "${tts_dev_set}" tts "data/${tts_prefix}_$(name "${tts_dev_set}")" "${tts_suffix}"
dev_dirs=("data/ls_$(name "${asr_dev_set}")" "data/${tts_prefix}_$(name "${tts_dev_set}")")
for s in ${asr_test_sets}; do prep librispeech "${LIBRISPEECH}" "$s" asr "data/test_asr_$(name "$s")"; done
for s in ${tts_test_sets}; do prep "${tts_corpus}" "${tts_root}" "$s" tts "data/test_tts_$(name "$s")" "${tts_suffix}"; done

python -m espnet_ext.bin.combine_data --out data/train "${train_dirs[@]}"
python -m espnet_ext.bin.combine_data --out data/dev "${dev_dirs[@]}"
log "data preparation done: $(wc -l < data/train/wav.scp) train, $(wc -l < data/dev/wav.scp) dev utterances"
