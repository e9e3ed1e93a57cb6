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

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, H, T, d_head)."""
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def query(self, x: torch.Tensor) -> torch.Tensor:
        """(B, U, D) -> (B, H, U, d_head), unscaled."""
        return self.split_heads(self.q_proj(x))

    def key_value(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, D) -> keys and values, each (B, H, T, d_head)."""
        return self.split_heads(self.k_proj(x)), self.split_heads(self.v_proj(x))

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
        if need_weights:
            logits = torch.matmul(q * self.scaling, k.transpose(-2, -1))
            if is_causal:
                u, t = logits.shape[-2:]
                causal = torch.ones(u, t, dtype=torch.bool, device=q.device).tril()
                logits = logits.masked_fill(~causal, float("-inf"))
            if mask is not None:
                logits = logits.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else logits + mask
            probs = torch.softmax(logits, dim=-1)
            out = torch.matmul(F.dropout(probs, dropout_p, self.training), v)
        else:
            probs = None
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=is_causal)
        b, h, u, d = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, u, h * d)), probs
