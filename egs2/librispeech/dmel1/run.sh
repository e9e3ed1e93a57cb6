#!/usr/bin/env bash
# English dMel: one decoder-only LM on discretized log-mel tokens for ASR (LibriSpeech), TTS
# (LibriTTS) and both (the joint model); plus the reconstruction check (mel vs dMel at 40 and 80 Hz
# through the same vocoder, judged by the same judge ASR). Corpus roots: db.sh.
# Paper sizes: conf/dmel_{small,base,large}.yaml (Base: 258M); CPU-sized: conf/dmel_mini.yaml.
set -euo pipefail

./dmel.sh \
  --lang en \
  --train_config conf/dmel_base.yaml \
  --jobs "asr tts joint" \
  --train_set train --valid_set dev \
  --test_sets "test_asr_test_clean test_tts_test_clean" \
  --recon_sets test_asr_test_clean \
  "$@"
