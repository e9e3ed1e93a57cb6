#!/usr/bin/env bash
# Stage 1 for the English STTATTS recipe: LibriSpeech (ASR), LibriTTS / LJSpeech (TTS) and CMU
# Arctic (VC pairs) from their own layouts into Kaldi-style data dirs with utt2category.
set -euo pipefail

combination=custom     # the paper's Table 1: eng | eNm | eny; 'custom' uses the sets below
asr_train_sets="train-clean-100"
tts_train_sets="train-clean-100"
use_ljspeech=false
asr_dev_set=dev-clean
tts_dev_set=dev-clean
asr_test_sets="test-clean"
tts_test_sets="test-clean"
use_vc=true
vc_speakers=""         # CMU Arctic speakers for VC (default: every speaker found)
vc_test_prompts=10     # the last N prompts of every speaker are held out for dev/test VC
asr_tts_hours_ratio=0  # >0: subsample ASR to at most this many times the TTS hours
normalize=en           # text normalisation (lowercase, no punctuation) as the paper
max_bad_fraction=""  # fail when more than this share of a split's lines is unreadable (empty: prepare_data's default)
__declared_options=(combination asr_train_sets tts_train_sets use_ljspeech asr_dev_set tts_dev_set
  asr_test_sets tts_test_sets use_vc vc_speakers vc_test_prompts asr_tts_hours_ratio normalize max_bad_fraction)
help_message="Usage: local/data.sh [options]  (corpus roots come from db.sh)"

. ./path.sh
. ./db.sh
. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/parse_options.sh"

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (${BASH_SOURCE[0]##*/}:${BASH_LINENO[0]}) $*"; }

case "${combination}" in
  eng) asr_train_sets="train-clean-100"; tts_train_sets="train-clean-100 train-clean-360"; use_ljspeech=false ;;
  eNm) asr_train_sets="train-clean-100 train-clean-360"
       tts_train_sets="train-clean-100 train-clean-360 train-other-500"; use_ljspeech=false ;;
  eny) asr_train_sets="train-clean-100 train-clean-360 train-other-500"
       tts_train_sets="train-clean-100 train-clean-360 train-other-500"; use_ljspeech=true ;;
  custom) ;;
  *) log "unknown --combination ${combination} (eng, eNm, eny or custom)"; exit 1 ;;
esac

prep() {  # corpus root split category out
  log "prepare_data --corpus $1 --split $3 -> $5"
  python -m espnet_ext.bin.prepare_data --corpus "$1" --root "$2" --split "$3" --category "$4" \
    --normalize "${normalize}" --out "$5" ${max_bad_fraction:+--max_bad_fraction "${max_bad_fraction}"}
}
name() { echo "${1//-/_}"; }

train_dirs=()
for s in ${asr_train_sets}; do prep librispeech "${LIBRISPEECH}" "$s" asr "data/ls_$(name "$s")"; train_dirs+=("data/ls_$(name "$s")"); done
for s in ${tts_train_sets}; do prep libritts "${LIBRITTS}" "$s" tts "data/ltts_$(name "$s")"; train_dirs+=("data/ltts_$(name "$s")"); done
if [ "${use_ljspeech}" = true ]; then prep ljspeech "${LJSPEECH}" "" tts data/ljspeech; train_dirs+=(data/ljspeech); fi
prep librispeech "${LIBRISPEECH}" "${asr_dev_set}" asr "data/ls_$(name "${asr_dev_set}")"
prep libritts "${LIBRITTS}" "${tts_dev_set}" tts "data/ltts_$(name "${tts_dev_set}")"
dev_dirs=("data/ls_$(name "${asr_dev_set}")" "data/ltts_$(name "${tts_dev_set}")")
for s in ${asr_test_sets}; do prep librispeech "${LIBRISPEECH}" "$s" asr "data/test_asr_$(name "$s")"; done
for s in ${tts_test_sets}; do prep libritts "${LIBRITTS}" "$s" tts "data/test_tts_$(name "$s")"; done

if [ "${use_vc}" = true ]; then
  log "make_vc_data: CMU Arctic pairs (held-out prompts: last ${vc_test_prompts})"
  python -m espnet_ext.bin.make_vc_data --root "${CMU_ARCTIC}" ${vc_speakers:+--speakers ${vc_speakers}} \
    --heldout_prompts "${vc_test_prompts}" --normalize "${normalize}" \
    ${max_bad_fraction:+--max_bad_fraction "${max_bad_fraction}"} \
    --train_out data/vc_train --dev_out data/vc_dev --test_out data/test_vc
  train_dirs+=(data/vc_train); dev_dirs+=(data/vc_dev)
fi

python -m espnet_ext.bin.combine_data --out data/train --asr_tts_hours_ratio "${asr_tts_hours_ratio}" "${train_dirs[@]}"
python -m espnet_ext.bin.combine_data --out data/dev "${dev_dirs[@]}"
log "data preparation done: $(wc -l < data/train/wav.scp) train, $(wc -l < data/dev/wav.scp) dev utterances"
