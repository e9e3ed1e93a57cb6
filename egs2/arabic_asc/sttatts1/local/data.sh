#!/usr/bin/env bash
# Stage 1 for the Arabic STTATTS recipe: the Arabic Speech Corpus (one speaker, 48 kHz audio,
# Buckwalter transcripts converted to Arabic script) for both ASR and TTS, as the paper does.
set -euo pipefail

keep_diacritics=true  # the paper trains TTS with and without diacritics
dev_utts=20           # utterances of the training part held out as the dev set
max_bad_fraction=""   # fail when more than this share of a split's lines is unreadable (empty: prepare_data's default)
__declared_options=(keep_diacritics dev_utts max_bad_fraction)
help_message="Usage: local/data.sh [--keep_diacritics true|false] [--dev_utts N] [--max_bad_fraction F]"

. ./path.sh
. ./db.sh
. "${MAIN_ROOT}/egs2/TEMPLATE/scripts/parse_options.sh"

log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (${BASH_SOURCE[0]##*/}:${BASH_LINENO[0]}) $*"; }
diac=()
[ "${keep_diacritics}" = true ] && diac=(--keep_diacritics)

for category in asr tts; do
  for subset in train test; do
    out="data/asc_train_${category}"; [ "${subset}" = test ] && out="data/test_${category}"
    log "prepare_data arabic_speech_corpus ${subset} (${category}) -> ${out}"
    # The same recording serves both tasks: each task gets its own utterance ids.
    python -m espnet_ext.bin.prepare_data --corpus arabic_speech_corpus --root "${ASC}" --split "${subset}" \
      --category "${category}" --normalize ar "${diac[@]}" --utt_suffix "_${category}" \
      ${max_bad_fraction:+--max_bad_fraction "${max_bad_fraction}"} --out "${out}"
  done
  python -m espnet_ext.bin.subset_data --in "data/asc_train_${category}" --last "${dev_utts}" \
    --out "data/dev_${category}" --rest "data/train_${category}"
done
python -m espnet_ext.bin.combine_data --out data/train data/train_asr data/train_tts
python -m espnet_ext.bin.combine_data --out data/dev data/dev_asr data/dev_tts
log "data preparation done: $(wc -l < data/train/wav.scp) train, $(wc -l < data/dev/wav.scp) dev utterances"
