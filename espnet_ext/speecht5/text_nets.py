"""Text pre-/post-nets of SpeechT5; all three share one token embedding (tied weights)."""
from __future__ import annotations

import torch
from torch import nn

from espnet_ext.speecht5.config import SpeechT5Config
from espnet_ext.speecht5.positions import ScaledPositionalEncoding, SinusoidalPositionalEmbedding


class TextEncoderPrenet(nn.Module):
    """tokens (B, L) -> embed_tokens + alpha * interleaved sin/cos positions, dropout -> (B, L, D)."""

    def __init__(self, cfg: SpeechT5Config, embed_tokens: nn.Embedding):
        super().__init__()
        self.embed_tokens = embed_tokens
        self.encode_positions = ScaledPositionalEncoding(cfg.d_model, cfg.positional_dropout, cfg.max_text_positions)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.encode_positions(self.embed_tokens(tokens))


class TextDecoderPrenet(nn.Module):
    """prev tokens (B, U) -> embed_tokens (scale 1.0) + fairseq sinusoidal positions, dropout.

    Positions count non-pad tokens from pad_id + 1 (fairseq `make_positions`); `offset` is the
    number of positions decoded before (incremental decoding).
    """

    def __init__(self, cfg: SpeechT5Config, embed_tokens: nn.Embedding):
        super().__init__()
        self.pad_id = cfg.pad_id
        self.embed_tokens = embed_tokens
        self.embed_positions = SinusoidalPositionalEmbedding(
            cfg.d_model, cfg.pad_id, cfg.max_text_positions + cfg.pad_id + 1
        )
        self.dropout = nn.Dropout(cfg.positional_dropout)

    def forward(self, prev_tokens: torch.Tensor, offset: int = 0) -> torch.Tensor:
        positions = self.embed_positions(prev_tokens != self.pad_id, offset)
        return self.dropout(self.embed_tokens(prev_tokens) + positions.to(self.embed_tokens.weight.dtype))


class TextDecoderPostnet(nn.Module):
    """Decoder states (B, U, D) -> token logits (B, U, V) with the embedding matrix as output weight."""

    def __init__(self, cfg: SpeechT5Config, embed_tokens: nn.Embedding):
        super().__init__()
        self.output_projection = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.output_projection.weight = embed_tokens.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_projection(x)
