"""Corpus synthesizer: sentences from our own grammar, spoken by espeak-ng voices, written in the
layouts of LibriSpeech, LibriTTS, LJSpeech, CMU Arctic and the Arabic Speech Corpus."""
