"""Positional encodings of SpeechT5: fairseq sinusoidal tables, scaled (alpha) encodings, relative bias.

Tables are computed on demand and grown when a longer input arrives, so the configured maximum
lengths never truncate an input (the anchor's fixed tables cap text at 600 tokens).
"""
from __future__ import annotations

import math

import torch
from torch import nn


def fairseq_sinusoidal_table(num_positions: int, dim: int, padding_idx: int | None) -> torch.Tensor:
    """(num_positions, dim) table: [sin | cos] halves (not interleaved), row `padding_idx` zeroed."""
    half_dim = dim // 2
    step = math.log(10000) / (half_dim - 1)
    freqs = torch.exp(torch.arange(half_dim, dtype=torch.int64).float() * -step)
    angles = torch.arange(num_positions, dtype=torch.int64).float().unsqueeze(1) * freqs.unsqueeze(0)
    table = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1).view(num_positions, -1)
    if dim % 2 == 1:
        table = torch.cat([table, torch.zeros(num_positions, 1)], dim=1)
    if padding_idx is not None:
        table[padding_idx, :] = 0
    return table


def make_positions(is_real: torch.Tensor, padding_idx: int, offset: int = 0) -> torch.Tensor:
    """fairseq position ids: real items count from padding_idx + 1 (+ offset), padding gets padding_idx.

    Args:
        is_real: (B, T) bool, True where the item is not padding.
        offset: number of positions already decoded (incremental decoding).
    Returns:
        (B, T) long.
    """
    real = is_real.long()
    return (torch.cumsum(real, dim=1) + offset) * real + padding_idx


class SinusoidalPositionalEmbedding(nn.Module):
    """fairseq's sinusoidal positions with a padding index (positions start at padding_idx + 1)."""

    def __init__(self, dim: int, padding_idx: int, init_size: int):
        super().__init__()
        self.dim = dim
        self.padding_idx = padding_idx
        self.register_buffer(
            "table", fairseq_sinusoidal_table(init_size, dim, padding_idx), persistent=False
        )

    def forward(self, is_real: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """is_real (B, T) bool -> (B, T, dim) embeddings (zeros at padding)."""
        positions = make_positions(is_real, self.padding_idx, offset)
        needed = int(positions.max()) + 1
        if needed > self.table.size(0):
            grown = fairseq_sinusoidal_table(max(needed, 2 * self.table.size(0)), self.dim, self.padding_idx)
            self.table = grown.to(self.table.device)
        return self.table.to(is_real.device)[positions].detach()


def scaled_positional_table(num_positions: int, dim: int) -> torch.Tensor:
    """(num_positions, dim) table with interleaved sin (even dims) / cos (odd dims), ESPnet style."""
    table = torch.zeros(num_positions, dim)
    position = torch.arange(0, num_positions).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, dim, 2, dtype=torch.int64).float() * -(math.log(10000.0) / dim))
    table[:, 0::2] = torch.sin(position.float() * div_term)
    table[:, 1::2] = torch.cos(position.float() * div_term)
    return table


class ScaledPositionalEncoding(nn.Module):
    """x + alpha * pe[offset : offset + T], then dropout (no sqrt(d) scaling of x).

    `alpha` is the learned scalar (checkpoint name `...encode_positions.alpha`).
    """

    def __init__(self, dim: int, dropout: float, init_size: int):
        super().__init__()
        self.dim = dim
        self.alpha = nn.Parameter(torch.tensor(1.0))
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", scaled_positional_table(init_size, dim), persistent=False)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """x (B, T, dim) -> (B, T, dim); `offset` = index of x's first frame (incremental decoding)."""
        end = offset + x.size(1)
        if end > self.pe.size(0):
            self.pe = scaled_positional_table(max(end, 2 * self.pe.size(0)), self.dim).to(self.pe.device)
        return self.dropout(x + self.alpha * self.pe[offset:end].to(x.dtype))


class RelativePositionBias(nn.Module):
    """Encoder relative position bias: logits[b,h,i,j] += (q_i / sqrt(d_head)) . pe_k[clip(i - j) + M].

    `pe_k` is Embedding(2M, d_head) (M = max_relative_position, 160 in base); distances are
    clipped to [-M, M - 1] as in fairseq/transformers. Computed as q @ pe_k^T (B, H, T, 2M) followed
    by a gather, which costs O(T * 2M) per query instead of materialising a (T, T, d_head) table.
    """

    def __init__(self, head_dim: int, max_relative_position: int):
        super().__init__()
        self.max_relative_position = max_relative_position
        self.pe_k = nn.Embedding(2 * max_relative_position, head_dim)

    def bucket(self, length: int, device: torch.device) -> torch.Tensor:
        """(T, T) long indices into pe_k for query i, key j."""
        pos = torch.arange(length, device=device)
        rel = pos[:, None] - pos[None, :]
        m = self.max_relative_position
        return rel.clamp(-m, m - 1) + m

    def flat_index(self, bucket: torch.Tensor) -> torch.Tensor:
        """(T, T) bucket -> (T*T,) indices into a (T, 2M) score matrix flattened: i * 2M + bucket[i, j]."""
        t = bucket.size(0)
        rows = torch.arange(t, device=bucket.device)[:, None] * (2 * self.max_relative_position)
        return (rows + bucket).view(-1)

    def forward(self, q_scaled: torch.Tensor, bucket: torch.Tensor | None = None,
                flat_index: torch.Tensor | None = None) -> torch.Tensor:
        """q_scaled (B, H, T, d_head), already multiplied by d_head**-0.5 -> bias (B, H, T, T).

        `bucket` = self.bucket(T) or `flat_index` = self.flat_index(bucket) may be passed in, to
        compute them once for all layers.
        """
        b, h, t, d = q_scaled.shape
        if flat_index is None:
            flat_index = self.flat_index(self.bucket(t, q_scaled.device) if bucket is None else bucket)
        scores = torch.matmul(q_scaled.reshape(b * h, t, d), self.pe_k.weight.t())  # (B*H, T, 2M)
        # an index into the flattened scores instead of torch.gather: for the backward pass
        # indexing keeps only the index, gather would keep the whole (B*H, T, 2M) scores
        return scores.view(b * h, -1)[:, flat_index].view(b, h, t, t)
