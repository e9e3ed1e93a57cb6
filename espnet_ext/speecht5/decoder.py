"""SpeechT5 decoder (post-LN self-attn, cross-attn, FFN) with a key/value cache for incremental decoding."""
from __future__ import annotations

from collections.abc import Collection

import torch
import torch.nn.functional as F
from torch import nn

from espnet_ext.speecht5.attention import MultiheadAttention
from espnet_ext.speecht5.config import SpeechT5Config


class DecoderCache:
    """Keys/values of every decoder layer for incremental decoding.

    Self-attention keys/values live in preallocated buffers (B, H, capacity, d_head) that double
    when full, so a step writes U new positions instead of re-concatenating the whole history.
    Cross-attention keys/values are projected from the encoder memory once, at the first step.
    `length` counts the decoder positions already processed (the position offset of the next input).
    """

    def __init__(self, num_layers: int):
        self.length = 0
        self.self_k: list[torch.Tensor | None] = [None] * num_layers
        self.self_v: list[torch.Tensor | None] = [None] * num_layers
        self.cross_k: list[torch.Tensor | None] = [None] * num_layers
        self.cross_v: list[torch.Tensor | None] = [None] * num_layers

    def append_self(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store k, v (B, H, U, d) at positions [length, length + U); return keys/values so far."""
        end = self.length + k.size(2)
        buf_k, buf_v = self.self_k[layer], self.self_v[layer]
        if buf_k is None or buf_k.size(2) < end:
            capacity = max(end, 16 if buf_k is None else 2 * buf_k.size(2))
            new_k = k.new_empty(k.size(0), k.size(1), capacity, k.size(3))
            new_v = v.new_empty(new_k.shape)
            if buf_k is not None:
                new_k[:, :, : self.length] = buf_k[:, :, : self.length]
                new_v[:, :, : self.length] = buf_v[:, :, : self.length]
            buf_k, buf_v = self.self_k[layer], self.self_v[layer] = new_k, new_v
        buf_k[:, :, self.length : end] = k
        buf_v[:, :, self.length : end] = v
        return buf_k[:, :, :end], buf_v[:, :, :end]

    def index_select(self, index: torch.Tensor) -> "DecoderCache":
        """A new cache whose batch entries are `index` of this one (beam search reordering)."""
        new = DecoderCache(len(self.self_k))
        new.length = self.length

        def pick(tensors):
            return [None if t is None else t.index_select(0, index) for t in tensors]

        new.self_k, new.self_v = pick(self.self_k), pick(self.self_v)
        new.cross_k, new.cross_v = pick(self.cross_k), pick(self.cross_v)
        return new


class DecoderLayer(nn.Module):
    """Post-LN: x = LN(x + self_attn(x)); x = LN(x + encoder_attn(x, memory)); x = LN(x + FFN(x))."""

    def __init__(self, cfg: SpeechT5Config):
        super().__init__()
        self.self_attn = MultiheadAttention(cfg.d_model, cfg.attention_heads, cfg.attention_dropout)
        self.self_attn_layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.encoder_attn = MultiheadAttention(cfg.d_model, cfg.attention_heads, cfg.attention_dropout)
        self.encoder_attn_layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.fc1 = nn.Linear(cfg.d_model, cfg.ffn_dim)
        self.fc2 = nn.Linear(cfg.ffn_dim, cfg.d_model)
        self.final_layer_norm = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)
        self.activation_dropout = nn.Dropout(cfg.activation_dropout)

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor,
        index: int,
        cache: DecoderCache | None,
        need_weights: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B, U, D), memory (B, T, D), memory_mask (B, 1, 1, T) True = may attend.

        Returns (B, U, D) and the cross-attention probabilities (B, H, U, T) if need_weights.
        """
        q = self.self_attn.query(x)
        k, v = self.self_attn.key_value(x)
        u = x.size(1)
        if cache is None:
            h, _ = self.self_attn.attend(q, k, v, is_causal=u > 1)
        else:
            past = cache.length
            k, v = cache.append_self(index, k, v)
            mask = None
            if u > 1:  # new position i (absolute past + i) sees keys 0 .. past + i
                mask = torch.ones(u, past + u, dtype=torch.bool, device=x.device).tril(diagonal=past)
            h, _ = self.self_attn.attend(q, k, v, mask=mask)
        x = self.self_attn_layer_norm(x + self.dropout(h))

        q = self.encoder_attn.query(x)
        if cache is None:
            k, v = self.encoder_attn.key_value(memory)
        else:
            if cache.cross_k[index] is None:
                cache.cross_k[index], cache.cross_v[index] = self.encoder_attn.key_value(memory)
            k, v = cache.cross_k[index], cache.cross_v[index]
        h, weights = self.encoder_attn.attend(q, k, v, mask=memory_mask, need_weights=need_weights)
        x = self.encoder_attn_layer_norm(x + self.dropout(h))

        h = self.fc2(self.activation_dropout(F.gelu(self.fc1(x))))
        return self.final_layer_norm(x + self.dropout(h)), weights


class Decoder(nn.Module):
    """`decoder_layers` decoder layers (checkpoint names `layers.N.*`), shared by text and speech."""

    def __init__(self, cfg: SpeechT5Config):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.decoder_layers))

    def new_cache(self) -> DecoderCache:
        return DecoderCache(len(self.layers))

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        memory_pad_mask: torch.Tensor,
        cache: DecoderCache | None = None,
        need_cross_attn: bool | Collection[int] = True,
    ) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        """Run the layers on pre-net output x (B, U, D).

        Args:
            memory: (B, T, D) encoder output; memory_pad_mask: (B, T) bool, True = padding.
            cache: None = teacher forcing (causal self-attention over x); a DecoderCache = x holds
                only the new position(s); the cache is updated in place and its length advanced.
            need_cross_attn: True = every layer's cross-attention probabilities (B, H, U, T);
                False = none (all layers use the fused attention kernel); a collection of layer
                indices = those layers' probabilities, None in the list for the others.
        Returns:
            (B, U, D) hidden states, list of cross-attention probabilities (empty if False).
        """
        memory_mask = ~memory_pad_mask[:, None, None, :]
        cross_attn = []
        for i, layer in enumerate(self.layers):
            need = need_cross_attn if isinstance(need_cross_attn, bool) else i in need_cross_attn
            x, weights = layer(x, memory, memory_mask, i, cache, need)
            if need_cross_attn is not False:
                cross_attn.append(weights)
        if cache is not None:
            cache.length += x.size(1)
        return x, cross_attn
