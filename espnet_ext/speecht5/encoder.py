"""SpeechT5 encoder: LayerNorm on the input, post-LN layers with a relative position bias."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from espnet_ext.speecht5.attention import MultiheadAttention
from espnet_ext.speecht5.config import SpeechT5Config
from espnet_ext.speecht5.positions import RelativePositionBias


class EncoderLayer(nn.Module):
    """Post-LN layer: x = LN(x + self_attn(x)); x = LN(x + fc2(GELU(fc1(x))))."""

    def __init__(self, cfg: SpeechT5Config):
        super().__init__()
        self.self_attn = MultiheadAttention(cfg.d_model, cfg.attention_heads, cfg.attention_dropout)
        self.self_attn_layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.fc1 = nn.Linear(cfg.d_model, cfg.ffn_dim)
        self.fc2 = nn.Linear(cfg.ffn_dim, cfg.d_model)
        self.final_layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)
        self.activation_dropout = nn.Dropout(cfg.activation_dropout)

    def forward(
        self, x: torch.Tensor, pad_mask: torch.Tensor, pos_bias: RelativePositionBias, bucket: torch.Tensor
    ) -> torch.Tensor:
        """x (B, T, D), pad_mask (B, T) True = padding, bucket (T, T) relative-distance indices -> (B, T, D)."""
        attn = self.self_attn
        q = attn.query(x)
        k, v = attn.key_value(x)
        # The relative bias depends on q, so it joins the padding mask as one additive float mask.
        bias = pos_bias(q * attn.scaling, bucket)
        bias.masked_fill_(pad_mask[:, None, None, :], float("-inf"))  # in place: a fresh tensor
        h, _ = attn.attend(q, k, v, mask=bias)
        x = self.self_attn_layer_norm(x + self.dropout(h))
        h = self.fc2(self.activation_dropout(F.gelu(self.fc1(x))))
        return self.final_layer_norm(x + self.dropout(h))


class Encoder(nn.Module):
    """LayerNorm + dropout on the pre-net output, then `encoder_layers` layers (layerdrop at training).

    Checkpoint names: `layer_norm`, `layers.N.*`, `pos_emb.pe_k`.
    """

    def __init__(self, cfg: SpeechT5Config):
        super().__init__()
        self.layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)
        self.layerdrop = cfg.encoder_layerdrop
        self.pos_emb = RelativePositionBias(cfg.head_dim, cfg.max_relative_position)
        self.layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.encoder_layers))

    def forward(self, x: torch.Tensor, pad_mask: torch.Tensor) -> torch.Tensor:
        """x (B, T, D) pre-net output, pad_mask (B, T) bool True = padding -> (B, T, D)."""
        x = self.dropout(self.layer_norm(x))
        bucket = self.pos_emb.bucket(x.size(1), x.device)
        for layer in self.layers:
            if self.training and self.layerdrop > 0 and torch.rand(()) < self.layerdrop:
                continue
            x = layer(x, pad_mask, self.pos_emb, bucket)
        return x
