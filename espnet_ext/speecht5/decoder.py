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

    With `share_cross=True` the cross-attention keys/values stay one entry per memory row while
    the decoder batch holds G consecutive rows per memory row (the hypotheses of a beam):
    `index_select` then reorders only the self-attention buffers, so beam search never copies the
    (B, H, T, d_head) encoder projections. Rows must only be reordered within their group.
    """

    def __init__(self, num_layers: int, share_cross: bool = False):
        self.length = 0
        self.share_cross = share_cross
        self.self_k: list[torch.Tensor | None] = [None] * num_layers
        self.self_v: list[torch.Tensor | None] = [None] * num_layers
        self.cross_k: list[torch.Tensor | None] = [None] * num_layers
        self.cross_v: list[torch.Tensor | None] = [None] * num_layers
        self.cross_mask: torch.Tensor | None = None  # memory padding as an additive mask (None: no padding)
        self.cross_mask_made = False
        self._spare: list[torch.Tensor | None] = []  # buffers of the previous reorder, reused

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
        """A new cache whose batch entries are `index` of this one (beam search reordering).

        Cross-attention entries are selected too unless they are shared (`share_cross`).
        """
        new = DecoderCache(len(self.self_k), self.share_cross)
        new.length = self.length

        def pick(tensors):
            return [None if t is None else t.index_select(0, index) for t in tensors]

        new.self_k, new.self_v = pick(self.self_k), pick(self.self_v)
        if self.share_cross:
            new.cross_k, new.cross_v = self.cross_k, self.cross_v
            new.cross_mask, new.cross_mask_made = self.cross_mask, self.cross_mask_made
        else:
            new.cross_k, new.cross_v = pick(self.cross_k), pick(self.cross_v)
        return new

    def reorder_(self, index: torch.Tensor) -> None:
        """In place: batch row i becomes row index[i] (index (B,) long, same batch size).

        Copies only the filled positions, not the whole capacity. When few rows change (most
        hypotheses extend themselves), only those are rewritten in place; otherwise every row is
        gathered into the buffers of the previous reorder (reused: large fresh allocations cost
        page faults at every beam-search step).
        """
        n = len(self.self_k)
        used = self.length  # only the filled positions: the rest of the capacity is garbage
        moved = torch.nonzero(index != torch.arange(index.numel(), device=index.device)).view(-1)
        if moved.numel() * 2 <= index.numel():  # rewrite the moved rows (their sources read first)
            src = index[moved]
            for bufs in (self.self_k, self.self_v):
                for buf in bufs:
                    if buf is not None and moved.numel():
                        buf[:, :, :used].index_copy_(0, moved, buf[:, :, :used].index_select(0, src))
        else:
            if len(self._spare) != 2 * n:
                self._spare = [None] * (2 * n)
            for i, bufs in enumerate((self.self_k, self.self_v)):
                for layer, buf in enumerate(bufs):
                    if buf is None:
                        continue
                    spare = self._spare[i * n + layer]
                    if spare is None or spare.shape != buf.shape:
                        spare = torch.empty_like(buf)
                    torch.index_select(buf[:, :, :used], 0, index, out=spare[:, :, :used])
                    self._spare[i * n + layer], bufs[layer] = buf, spare
        if not self.share_cross:
            self.cross_k = [None if t is None else t.index_select(0, index) for t in self.cross_k]
            self.cross_v = [None if t is None else t.index_select(0, index) for t in self.cross_v]
            self.cross_mask, self.cross_mask_made = None, False  # remade from the next step's padding

    def select_groups(self, groups: torch.Tensor, size: int) -> None:
        """In place: keep memory rows `groups` (G',) and their `size` decoder rows each (batch rows
        are grouped by memory row; e.g. drop utterances whose beam search has ended)."""
        rows = (groups[:, None] * size + torch.arange(size, device=groups.device)).view(-1)
        self.self_k = [None if t is None else t.index_select(0, rows) for t in self.self_k]
        self.self_v = [None if t is None else t.index_select(0, rows) for t in self.self_v]
        self._spare = []
        cross = groups if self.share_cross else rows
        self.cross_k = [None if t is None else t.index_select(0, cross) for t in self.cross_k]
        self.cross_v = [None if t is None else t.index_select(0, cross) for t in self.cross_v]
        if self.cross_mask is not None:
            self.cross_mask = self.cross_mask.index_select(0, cross)


def grouped_query(q: torch.Tensor, groups: int) -> torch.Tensor:
    """(B*G, H, U, d) -> (B, H, G*U, d): the G rows sharing one memory row become its queries."""
    bg, h, u, d = q.shape
    return q.view(bg // groups, groups, h, u, d).transpose(1, 2).reshape(bg // groups, h, groups * u, d)


def ungrouped(x: torch.Tensor, groups: int) -> torch.Tensor:
    """(B, H, G*U, ...) -> (B*G, H, U, ...), the inverse of grouped_query."""
    b, h, gu = x.shape[:3]
    u = gu // groups
    return x.view(b, h, groups, u, *x.shape[3:]).transpose(1, 2).reshape(b * groups, h, u, *x.shape[3:])


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
        memory_mask: torch.Tensor | None,
        index: int,
        cache: DecoderCache | None,
        need_weights: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x (B*G, U, D), memory (B, T, D), memory_mask (B, 1, 1, T): bool True = may attend, or
        additive float, or None (no padding). G > 1 only with a cache that shares its cross
        keys/values (beam search: G consecutive rows attend to one memory row).

        Returns (B*G, U, D) and the cross-attention probabilities (B*G, H, U, T) if need_weights.
        """
        u = x.size(1)
        q, k, v = self.self_attn.query_key_value(x)
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
        groups = q.size(0) // k.size(0)
        if groups > 1:
            h, weights = self.encoder_attn.attend(grouped_query(q, groups), k, v, memory_mask, need_weights=need_weights)
            h = h.view(k.size(0), groups * u, -1).view(q.size(0), u, -1)  # (B, G*U, D) rows are (g, u)
            weights = None if weights is None else ungrouped(weights, groups)
        else:
            h, weights = self.encoder_attn.attend(q, k, v, mask=memory_mask, need_weights=need_weights)
        x = self.encoder_attn_layer_norm(x + self.dropout(h))

        h = self.fc2(self.activation_dropout(F.gelu(self.fc1(x))))
        return self.final_layer_norm(x + self.dropout(h)), weights


class Decoder(nn.Module):
    """`decoder_layers` decoder layers (checkpoint names `layers.N.*`), shared by text and speech."""

    def __init__(self, cfg: SpeechT5Config):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.decoder_layers))

    def new_cache(self, share_cross: bool = False) -> DecoderCache:
        return DecoderCache(len(self.layers), share_cross)

    @staticmethod
    def memory_mask(
        memory_pad_mask: torch.Tensor, cache: DecoderCache | None, dtype: torch.dtype
    ) -> torch.Tensor | None:
        """(B, T) True = padding -> attention mask (B, 1, 1, T), or None when nothing is padded.

        With a cache the mask is made once, as an additive float mask (0 / -inf), so that the
        attention kernel does not convert a bool mask again in every layer of every step.
        """
        if cache is None:
            return ~memory_pad_mask[:, None, None, :]
        if not cache.cross_mask_made:
            cache.cross_mask_made = True
            if bool(memory_pad_mask.any()):
                mask = torch.zeros(memory_pad_mask.shape, dtype=dtype, device=memory_pad_mask.device)
                cache.cross_mask = mask.masked_fill_(memory_pad_mask, float("-inf"))[:, None, None, :]
        return cache.cross_mask

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
        memory_mask = self.memory_mask(memory_pad_mask, cache, memory.dtype)
        cross_attn = []
        for i, layer in enumerate(self.layers):
            need = need_cross_attn if isinstance(need_cross_attn, bool) else i in need_cross_attn
            x, weights = layer(x, memory, memory_mask, i, cache, need)
            if need_cross_attn is not False:
                cross_attn.append(weights)
        if cache is not None:
            cache.length += x.size(1)
        return x, cross_attn
