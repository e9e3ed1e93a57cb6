"""dMel (Bai et al.): discretized log-mel tokens and one decoder-only transformer for ASR and TTS.

- ``tokenizer``: ``DMelTokenizer`` (waveform <-> tokens), bin tables (published / eqs 2-3).
- ``model``: ``DMelLM`` (pre-LN, RoPE, qk-norm, KV cache) and ``DMelLMConfig`` (Table 9 sizes).
- ``sequence``: how speaker, text and speech share one sequence; loss targets.
- ``masking``: span masking of the context, SpecAugment for ASR.
- ``generation``: greedy / beam text decoding, per-channel speech sampling.
- ``espnet_model``: ``ESPnetDMelLM``, the ESPnet model (loss, stats, weight) for asr / tts / joint.
"""
from espnet_ext.dmel.model import DMelLM, DMelLMConfig, count_parameters
from espnet_ext.dmel.tokenizer import (
    DMelTokenizer,
    MelRange,
    bin_table_from_range,
    load_bin_table,
    save_bin_table,
    uniform_bin_table,
)

__all__ = [
    "DMelLM",
    "DMelLMConfig",
    "DMelTokenizer",
    "MelRange",
    "bin_table_from_range",
    "count_parameters",
    "load_bin_table",
    "save_bin_table",
    "uniform_bin_table",
]
