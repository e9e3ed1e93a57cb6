#!/usr/bin/env bash
# English STTATTS: LibriSpeech (ASR) + LibriTTS (TTS) + CMU Arctic (VC) in one model.
# Corpus roots: db.sh. Paper settings: conf/sttatts_base.yaml; CPU-sized: conf/sttatts_mini.yaml.
set -euo pipefail

./sttatts.sh \
  --lang en \
  --train_config conf/sttatts_base.yaml \
  --inference_config conf/decode_sttatts.yaml \
  --train_set train --valid_set dev \
  --test_sets "test_asr_test_clean test_tts_test_clean test_vc" \
  "$@"
