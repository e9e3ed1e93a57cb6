"""SpeechT5 backbone (faithful to microsoft/SpeechT5 so its checkpoints load) and its converter.

Public API:
    SpeechT5Config                     sizes (dataclass, SpeechT5-base defaults)
    SpeechT5                           the encoder-decoder with all pre-/post-nets
    DecoderCache                       key/value cache for incremental decoding
    load_speecht5_checkpoints(paths)   fairseq / Hugging Face checkpoints -> ConvertedCheckpoint
    greedy_decode_text, synthesize_speech   KV-cached reference decoding loops (generate.py)
"""
from espnet_ext.speecht5.config import SpeechT5Config
from espnet_ext.speecht5.convert import ConvertedCheckpoint, load_speecht5_checkpoints
from espnet_ext.speecht5.decoder import DecoderCache
from espnet_ext.speecht5.generate import greedy_decode_text, synthesize_speech
from espnet_ext.speecht5.model import SpeechT5

__all__ = [
    "ConvertedCheckpoint",
    "DecoderCache",
    "SpeechT5",
    "SpeechT5Config",
    "greedy_decode_text",
    "load_speecht5_checkpoints",
    "synthesize_speech",
]
