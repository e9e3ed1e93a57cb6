"""The dMel decoder-only transformer (paper section 2.2, appendix D, Table 9), nanoGPT-shaped.

One causal transformer reads a single sequence that mixes three kinds of positions:

- a speaker position: d-vector (spk_embed_dim) -> Linear -> D (TTS only);
- text positions: character ids -> Embedding(V, D);
- speech positions: one dMel frame (n_channels ids) -> a shared Embedding(speech_vocab, d) per
  channel (eq 6), the n_channels * d vector concatenated -> Linear -> D (eq 7).

Positions carry no embedding: RoPE with ONE global index over speaker, text and speech. Blocks are
pre-LN with LayerNorm on queries and keys (appendix D, for stability), causal SDPA and a key/value
cache for generation. Heads: text logits (V, tied to the text embedding) and speech logits
(n_channels x speech_vocab, every channel an independent softmax, all in parallel).

Dropout (0.1 in the paper) is applied to embeddings, attention weights and residual branches; the
paper's 0.3 "positional embedding" dropout has no counterpart with RoPE.
"""
import math
from dataclasses import dataclass
from typing import List, Optional

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class DMelLMConfig:
    """Sizes. Table 9: Small 18/2/512, Base 36/4/768, Large 48/8/1536 (layers / heads / D)."""

    text_vocab_size: int  # characters + specials (the token list)
    speech_vocab_size: int = 19  # 2^K bins + pad, bos, eos (tokenizer.vocab_size)
    n_channels: int = 80  # mel channels N
    n_layer: int = 36
    n_head: int = 4
    n_embd: int = 768  # D
    ffn_mult: int = 4  # MLP hidden = ffn_mult * D
    ffn_dim: Optional[int] = None  # MLP hidden size; overrides ffn_mult when set
    channel_embd: int = 32  # d: size of one channel's bin embedding (eq 6)
    spk_embed_dim: int = 512  # d-vector size; 0 = no speaker input
    dropout: float = 0.1
    rope_base: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @property
    def ffn_hidden(self) -> int:
        return self.ffn_dim if self.ffn_dim is not None else self.ffn_mult * self.n_embd


def rope_cos_sin(positions: torch.Tensor, head_dim: int, base: float):
    """positions (T,) -> cos, sin (T, head_dim) for the rotate-half form of RoPE."""
    inv_freq = base ** (-torch.arange(0, head_dim, 2, device=positions.device, dtype=torch.float32) / head_dim)
    angles = positions.float()[:, None] * inv_freq[None, :]
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x (B, H, T, hd) rotated by position: x cos + rotate_half(x) sin."""
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return (x * cos + rotated * sin).to(x.dtype)


class KVCache:
    """Keys and values of every layer for incremental decoding.

    Each layer's keys/values live in a buffer (B, H, capacity, hd) that doubles when full, so a
    step writes its new positions instead of re-concatenating the whole history (a copy of every
    past position of every layer at every generated frame).
    """

    def __init__(self, n_layer: int):
        self.k: List[Optional[torch.Tensor]] = [None] * n_layer
        self.v: List[Optional[torch.Tensor]] = [None] * n_layer
        self.lengths: List[int] = [0] * n_layer

    @property
    def length(self) -> int:
        return self.lengths[0]

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        """Store k, v (B, H, T, hd) after the layer's past positions; return all keys/values so far."""
        past, new = self.lengths[layer], k.shape[2]
        end = past + new
        buf_k, buf_v = self.k[layer], self.v[layer]
        if buf_k is None or buf_k.shape[2] < end:
            capacity = max(end, 64 if buf_k is None else 2 * buf_k.shape[2])
            grown_k = k.new_empty(k.shape[0], k.shape[1], capacity, k.shape[3])
            grown_v = v.new_empty(grown_k.shape)
            if buf_k is not None:
                grown_k[:, :, :past] = buf_k[:, :, :past]
                grown_v[:, :, :past] = buf_v[:, :, :past]
            buf_k, buf_v = self.k[layer], self.v[layer] = grown_k, grown_v
        buf_k[:, :, past:end] = k
        buf_v[:, :, past:end] = v
        self.lengths[layer] = end
        return buf_k[:, :, :end], buf_v[:, :, :end]

    def select(self, index: torch.Tensor) -> "KVCache":
        """Keep / repeat batch rows (beam search): index (B',) into the batch dimension."""
        out = KVCache(len(self.k))
        out.k = [None if k is None else k.index_select(0, index) for k in self.k]
        out.v = [None if v is None else v.index_select(0, index) for v in self.v]
        out.lengths = list(self.lengths)
        return out


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: DMelLMConfig):
        super().__init__()
        assert cfg.n_embd % cfg.n_head == 0
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.q_norm = nn.LayerNorm(cfg.head_dim)  # qk-norm on the head dimension (appendix D)
        self.k_norm = nn.LayerNorm(cfg.head_dim)
        self.dropout = cfg.dropout
        self.resid_drop = nn.Dropout(cfg.dropout)

    def forward(self, x, cos, sin, cache: Optional[KVCache] = None, layer: int = 0, past: int = 0):
        """x (B, T, D) at positions past .. past + T - 1 (``past`` = the cache's length before this call)."""
        B, T, D = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_head, D // self.n_head).permute(2, 0, 3, 1, 4)
        q = apply_rope(self.q_norm(q), cos, sin)
        k = apply_rope(self.k_norm(k), cos, sin)
        if cache is not None:
            k, v = cache.append(layer, k, v)
        drop = self.dropout if self.training else 0.0
        if past == 0:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, is_causal=True)
        elif T == 1:  # one new position sees every key: no mask to build
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
        else:  # new queries sit at positions past .. past + T - 1 and see every key up to their own
            allowed = torch.arange(past + T, device=x.device)[None, :] <= past + torch.arange(T, device=x.device)[:, None]
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=drop)
        return self.resid_drop(self.proj(y.transpose(1, 2).reshape(B, T, D)))


class MLP(nn.Module):
    def __init__(self, cfg: DMelLMConfig):
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, cfg.ffn_hidden)
        self.proj = nn.Linear(cfg.ffn_hidden, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.drop(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    """Pre-LN: x + attn(LN(x)), then x + mlp(LN(x))."""

    def __init__(self, cfg: DMelLMConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, cache=None, layer=0, past=0):
        x = x + self.attn(self.ln_1(x), cos, sin, cache, layer, past)
        return x + self.mlp(self.ln_2(x))


class DMelLM(nn.Module):
    """Embeddings, transformer and heads. Sequences are assembled by ``espnet_ext.dmel.sequence``."""

    def __init__(self, cfg: DMelLMConfig):
        super().__init__()
        self.cfg = cfg
        self.text_embed = nn.Embedding(cfg.text_vocab_size, cfg.n_embd)
        self.channel_embed = nn.Embedding(cfg.speech_vocab_size, cfg.channel_embd)  # eq 6, shared by channels
        self.speech_in = nn.Linear(cfg.n_channels * cfg.channel_embd, cfg.n_embd)  # eq 7
        self.spk_in = nn.Linear(cfg.spk_embed_dim, cfg.n_embd) if cfg.spk_embed_dim > 0 else None
        self.mask_embed = nn.Parameter(torch.zeros(cfg.n_embd))  # replaces span-masked context positions
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.speech_head = nn.Linear(cfg.n_embd, cfg.n_channels * cfg.speech_vocab_size)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2: scale residual projections by depth
            if name.endswith("proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    # -- inputs ---------------------------------------------------------------------------------
    def embed_text(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, L) long -> (B, L, D). Negative (padding) ids embed as id 0; they are never attended."""
        return self.text_embed(ids.clamp(min=0))

    def embed_speech(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, T, n_channels) long -> (B, T, D): per-channel embeddings concatenated, projected."""
        e = self.channel_embed(frames.clamp(min=0))  # (B, T, C, d)
        return self.speech_in(e.flatten(2))

    def embed_speaker(self, spembs: torch.Tensor) -> torch.Tensor:
        """(B, spk_embed_dim) -> (B, 1, D)."""
        if self.spk_in is None:
            raise ValueError("this model has no speaker input (spk_embed_dim = 0)")
        return self.spk_in(spembs.float())[:, None]

    # -- transformer ----------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, cache: Optional[KVCache] = None) -> torch.Tensor:
        """Input embeddings (B, T, D) -> final hidden states (B, T, D).

        Positions are global: 0 .. T-1, or continuing after the cache's length.
        """
        past = 0 if cache is None else cache.length
        cos, sin = rope_cos_sin(torch.arange(past, past + x.shape[1], device=x.device), self.cfg.head_dim, self.cfg.rope_base)
        x = self.drop(x)
        for i, block in enumerate(self.blocks):
            x = block(x, cos, sin, cache, i, past)
        return self.ln_f(x)

    # -- outputs --------------------------------------------------------------------------------
    def text_logits(self, h: torch.Tensor) -> torch.Tensor:
        """(..., D) -> (..., V); the output projection is the text embedding (tied)."""
        return F.linear(h, self.text_embed.weight)

    def speech_logits(self, h: torch.Tensor) -> torch.Tensor:
        """(..., D) -> (..., n_channels, speech_vocab): one independent softmax per channel."""
        return self.speech_head(h).unflatten(-1, (self.cfg.n_channels, self.cfg.speech_vocab_size))

    def new_cache(self) -> KVCache:
        return KVCache(self.cfg.n_layer)


def count_parameters(cfg: DMelLMConfig) -> int:
    """Closed-form parameter count of ``DMelLM(cfg)`` (checked against built models in the tests)."""
    D, F_ = cfg.n_embd, cfg.ffn_hidden
    attn = D * 3 * D + 3 * D + D * D + D + 2 * 2 * cfg.head_dim
    mlp = D * F_ + F_ + F_ * D + D
    block = attn + mlp + 2 * 2 * D
    inputs = cfg.text_vocab_size * D + cfg.speech_vocab_size * cfg.channel_embd
    inputs += cfg.n_channels * cfg.channel_embd * D + D + D  # speech_in (+ bias), mask_embed
    if cfg.spk_embed_dim > 0:
        inputs += cfg.spk_embed_dim * D + D
    outputs = 2 * D + D * cfg.n_channels * cfg.speech_vocab_size + cfg.n_channels * cfg.speech_vocab_size
    return cfg.n_layer * block + inputs + outputs
