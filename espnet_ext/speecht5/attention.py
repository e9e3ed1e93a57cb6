"""Multi-head attention of SpeechT5 (q/k/v/out projections with bias), on scaled_dot_product_attention."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MultiheadAttention(nn.Module):
    """Multi-head attention; checkpoint names `q_proj`, `k_proj`, `v_proj`, `out_proj`.

    The projections are separate from the attention step so that a decoder can project the
    encoder memory once (cross-attention cache) and append self-attention keys incrementally.
    """

    def __init__(self, d_model: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.head_dim = d_model // heads
        self.scaling = self.head_dim**-0.5
        self.dropout = dropout
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self._fused_cache: dict = {}  # inference only: concatenated projections (see _fused)
        self.int8_fused: nn.ModuleDict | None = None  # int8 fused projections (see quantize.py)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, H, T, d_head)."""
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def query(self, x: torch.Tensor) -> torch.Tensor:
        """(B, U, D) -> (B, H, U, d_head), unscaled."""
        return self.split_heads(self.q_proj(x))

    def key_value(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, D) -> keys and values, each (B, H, T, d_head)."""
        if torch.is_grad_enabled():
            return self.split_heads(self.k_proj(x)), self.split_heads(self.v_proj(x))
        kv = self._project(("k_proj", "v_proj"), x)
        half = kv.size(-1) // 2
        return self.split_heads(kv[..., :half]), self.split_heads(kv[..., half:])

    def query_key_value(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, U, D) -> q (unscaled), k, v, each (B, H, U, d_head).

        Without autograd (inference) the three projections run as one matrix product: a decoding
        step is a chain of small operations, and each one saved is time saved.
        """
        if torch.is_grad_enabled():
            return self.query(x), *self.key_value(x)
        b_, u, _ = x.shape
        qkv = self._project(("q_proj", "k_proj", "v_proj"), x)
        qkv = qkv.view(b_, u, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        return qkv[0], qkv[1], qkv[2]

    def _apply(self, fn, *args, **kwargs):
        self._fused_cache = {}  # dtype / device changes: rebuild the fused projections
        return super()._apply(fn, *args, **kwargs)

    def _project(self, names: tuple[str, ...], x: torch.Tensor) -> torch.Tensor:
        """x (..., D) through the named projections at once (concatenated outputs)."""
        if self.int8_fused is not None:
            return self.int8_fused["_".join(names)](x)
        return F.linear(x, *self._fused(names))

    def _fused(self, names: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """Concatenated weights and biases of the named projections, rebuilt whenever a parameter
        changes (in-place updates bump its version; moves change its storage)."""
        linears = [getattr(self, n) for n in names]
        key = tuple((p.data_ptr(), p._version) for m in linears for p in (m.weight, m.bias))
        cached = self._fused_cache.get(names)
        if cached is None or cached[0] != key:
            w = torch.cat([m.weight for m in linears])
            b = torch.cat([m.bias for m in linears])
            cached = self._fused_cache[names] = (key, w, b)
        return cached[1], cached[2]

    def attend_logits(self, logits: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Softmax of precomputed scaled logits (B, H, U, T) (with any bias and -inf masking
        already in), attention dropout, weighted sum of v (B, H, T, d), output projection -> (B, U, D)."""
        probs = F.dropout(torch.softmax(logits, dim=-1), self.dropout, self.training)
        out = torch.matmul(probs, v)
        b, h, u, d = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, u, h * d))

    def attend(
        self,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        mask: torch.Tensor | None = None,
        is_causal: bool = False,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attention of q (B, H, U, d) over k, v (B, H, T, d), then the output projection.

        Args:
            mask: broadcastable to (B, H, U, T); bool (True = may attend) or float (added to the
                scaled logits, e.g. a relative position bias with -inf at padded keys).
            is_causal: query u attends to keys <= u (only when U == T and no mask).
            need_weights: also return the attention probabilities (B, H, U, T) (computed without
                the fused kernel, since scaled_dot_product_attention does not expose them).
        Returns:
            output (B, U, D), probabilities or None.
        """
        dropout_p = self.dropout if self.training else 0.0
        # On CPU, scaled_dot_product_attention with dropout runs its math fallback (which scales q
        # and k separately and adds a safe-softmax pass): the same math written out is cheaper.
        explicit = need_weights or (dropout_p > 0 and q.device.type == "cpu")
        if explicit:
            logits = torch.matmul(q * self.scaling, k.transpose(-2, -1))
            if is_causal:
                u, t = logits.shape[-2:]
                causal = torch.ones(u, t, dtype=torch.bool, device=q.device).triu_(1)
                logits = logits.masked_fill_(causal, float("-inf"))
            if mask is not None:
                logits = logits.masked_fill_(~mask, float("-inf")) if mask.dtype == torch.bool else logits.add_(mask)
            probs = torch.softmax(logits, dim=-1)
            out = torch.matmul(F.dropout(probs, dropout_p, self.training), v)
            probs = probs if need_weights else None
        else:
            probs = None
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=is_causal)
        b, h, u, d = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, u, h * d)), probs
