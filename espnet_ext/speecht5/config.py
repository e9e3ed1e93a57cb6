"""SpeechT5 backbone configuration: one dataclass, SpeechT5-base defaults.

Every size of the backbone lives here, so the paper-size model and a tiny CPU model are built by
the same classes. Field names follow the contract in the STTATTS design (see ANCHORS.md
"SpeechT5 base architecture"); Hugging Face names are mapped in ``convert.py``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Tuple


@dataclass
class SpeechT5Config:
    """Sizes and regularisation of the SpeechT5 encoder-decoder (defaults = SpeechT5 base)."""

    # vocabulary: 81 = transformers' English SpeechT5 (fairseq specials + dict.txt + <mask>, <ctc_blank>)
    vocab_size: int = 81
    pad_id: int = 1
    bos_id: int = 0
    eos_id: int = 2

    # transformer
    d_model: int = 768
    encoder_layers: int = 12
    decoder_layers: int = 6
    attention_heads: int = 12
    ffn_dim: int = 3072
    layer_norm_eps: float = 1e-5
    dropout: float = 0.1
    attention_dropout: float = 0.1
    activation_dropout: float = 0.1
    positional_dropout: float = 0.1  # dropout after adding positional encodings in the pre-nets
    encoder_layerdrop: float = 0.0  # probability of skipping an encoder layer at training
    max_relative_position: int = 160  # encoder relative position bias clips i - j to [-M, M - 1]

    # speech encoder pre-net (wav2vec2-style feature extractor, 16 kHz samples in)
    conv_dim: Tuple[int, ...] = (512, 512, 512, 512, 512, 512, 512)
    conv_kernel: Tuple[int, ...] = (10, 3, 3, 3, 3, 2, 2)
    conv_stride: Tuple[int, ...] = (5, 2, 2, 2, 2, 2, 2)
    conv_bias: bool = False
    pos_conv_kernel: int = 128
    pos_conv_groups: int = 16
    feat_proj_dropout: float = 0.1  # dropout on the projected conv features (fairseq: args.dropout)
    # how the sample padding mask becomes a frame padding mask: "reshape_all" (fairseq) or
    # "conv_lengths" (transformers); see SpeechEncoderPrenet.frame_padding_mask
    padding_mask_mode: str = "reshape_all"
    # SpecAugment-style masking of the projected features at training (0 disables); time masks
    # are filled with the learned `mask_emb`, channel masks with zeros (wav2vec2 / SpeechT5).
    mask_time_prob: float = 0.0
    mask_time_length: int = 10
    mask_time_min_masks: int = 2
    mask_channel_prob: float = 0.0
    mask_channel_length: int = 64

    # positional tables (sinusoidal tables are computed, not learned: longer inputs extend them)
    max_text_positions: int = 600
    max_speech_positions: int = 1876

    # speech decoder pre-/post-net
    num_mel_bins: int = 80
    reduction_factor: int = 2
    speech_decoder_prenet_units: int = 256
    speech_decoder_prenet_layers: int = 2
    speech_decoder_prenet_dropout: float = 0.5
    spk_embed_dim: int = 512
    postnet_layers: int = 5
    postnet_units: int = 256
    postnet_kernel: int = 5
    postnet_dropout: float = 0.5

    def __post_init__(self):
        self.conv_dim = tuple(int(c) for c in self.conv_dim)
        self.conv_kernel = tuple(int(c) for c in self.conv_kernel)
        self.conv_stride = tuple(int(c) for c in self.conv_stride)
        if not len(self.conv_dim) == len(self.conv_kernel) == len(self.conv_stride):
            raise ValueError("conv_dim, conv_kernel and conv_stride must have the same length")
        if self.padding_mask_mode not in ("reshape_all", "conv_lengths"):
            raise ValueError(f"padding_mask_mode must be 'reshape_all' or 'conv_lengths': {self.padding_mask_mode!r}")
        if self.d_model % self.attention_heads:
            raise ValueError(f"d_model {self.d_model} not divisible by {self.attention_heads} heads")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.attention_heads

    @property
    def samples_per_frame(self) -> int:
        """Total stride of the feature extractor (320 samples = 20 ms at 16 kHz for base)."""
        total = 1
        for s in self.conv_stride:
            total *= s
        return total

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SpeechT5Config":
        """Build from a dict (e.g. a YAML section); unknown keys raise."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown SpeechT5Config keys: {sorted(unknown)}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with lists instead of tuples (YAML-friendly)."""
        d = dataclasses.asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d

