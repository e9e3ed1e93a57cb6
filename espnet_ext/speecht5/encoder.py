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
        self, x: torch.Tensor, pad_mask: torch.Tensor, pos_bias: RelativePositionBias, flat_index: torch.Tensor
    ) -> torch.Tensor:
        """x (B, T, D), pad_mask (B, T) True = padding, flat_index (T*T,) relative-distance indices
        (RelativePositionBias.flat_index) -> (B, T, D)."""
        attn = self.self_attn
        q, k, v = attn.query_key_value(x)
        q_scaled = q.contiguous().mul_(attn.scaling)  # (B, H, T, d) laid out for the batched products
        # The relative bias depends on q, so it joins the padding mask as one additive float mask.
        bias = pos_bias(q_scaled, flat_index=flat_index)
        bias.masked_fill_(pad_mask[:, None, None, :], float("-inf"))  # in place: a fresh tensor
        if self.training and attn.dropout > 0 and x.device.type == "cpu":
            # On CPU, scaled_dot_product_attention with dropout runs its math fallback, which
            # scales q and k again and adds a safe-softmax pass; the same math written out reuses
            # the scaled q and adds the bias inside the product (baddbmm).
            b, heads, t, d = q_scaled.shape
            logits = torch.baddbmm(bias.view(b * heads, t, t), q_scaled.view(b * heads, t, d),
                                   k.reshape(b * heads, t, d).transpose(1, 2))
            h = attn.attend_logits(logits.view(b, heads, t, t), v)
        else:
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
        flat_index = self.pos_emb.flat_index(self.pos_emb.bucket(x.size(1), x.device))
        for layer in self.layers:
            if self.training and self.layerdrop > 0 and torch.rand(()) < self.layerdrop:
                continue
            x = layer(x, pad_mask, self.pos_emb, flat_index)
        return x
