#!/usr/bin/env bash
# Arabic STTATTS: the Arabic Speech Corpus for ASR and TTS in one model (the paper's Arabic setup;
# initialise from ArTST with --init_model and --token_list_from). Corpus root: ASC in db.sh.
# Scoring reports WER/CER with and without diacritics.
set -euo pipefail

./sttatts.sh \
  --lang ar \
  --train_config conf/sttatts_base.yaml \
  --inference_config conf/decode_sttatts.yaml \
  --train_set train --valid_set dev \
  --test_sets "test_asr test_tts" \
  "$@"
