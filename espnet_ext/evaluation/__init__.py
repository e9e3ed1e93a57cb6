"""Speech-quality evaluation for recipe stage 7 (import the module you need; each is light):

- ``text_metrics``: WER / CER with jiwer on normalised text;
- ``mcd``: mel-cepstral distortion with DTW against a reference recording (WORLD mel cepstra, or
  the 80-band mel the vocoders invert);
- ``speaker_similarity``: cosine of resemblyzer d-vectors;
- ``judge``: judge ASR (ESPnet model / Whisper / round-trip callable), results named by judge;
- ``plots``: mel, attention, stop-probability and training-curve figures.
"""
