"""Loss terms of STTATTS (section 3.3): CE (+ CTC, ESPnet's module) for text outputs; L1, stop BCE
and guided attention for speech outputs. Every function returns plain tensors so the model can
normalise per task and report each term.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from espnet.nets.pytorch_backend.e2e_tts_transformer import GuidedMultiHeadAttentionLoss


def length_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B,) lengths -> (B, max_len) bool, True = valid."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def label_smoothed_nll(
    logits: torch.Tensor, target: torch.Tensor, epsilon: float = 0.0, ignore_index: int = -1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Label-smoothed cross entropy summed over the valid tokens (fairseq's formula).

    loss = (1 - eps - eps/(V-1)) * nll + eps/(V-1) * sum_v(-log p_v), with eps = 0 plain CE.

    Args:
        logits: (B, U, V) unnormalised scores.
        target: (B, U) token ids; ``ignore_index`` marks padding.
    Returns:
        (loss summed over tokens, nll summed over tokens), both scalars.
    """
    lprobs = F.log_softmax(logits.float(), dim=-1)
    valid = target != ignore_index
    safe_target = target.masked_fill(~valid, 0)
    nll = -lprobs.gather(-1, safe_target[..., None])[..., 0]
    smooth = -lprobs.sum(-1)
    nll = nll.masked_fill(~valid, 0.0).sum()
    smooth = smooth.masked_fill(~valid, 0.0).sum()
    eps_i = epsilon / (logits.size(-1) - 1)
    return (1.0 - epsilon - eps_i) * nll + eps_i * smooth, nll


def token_accuracy(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = -1) -> torch.Tensor:
    """Fraction of valid positions where argmax(logits) equals the target (0-d tensor)."""
    valid = target != ignore_index
    correct = (logits.argmax(-1) == target) & valid
    return correct.sum().float() / valid.sum().clamp(min=1).float()


def masked_l1(pred: torch.Tensor, target: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean |pred - target| over the valid frames and all bins. pred, target: (B, L, F)."""
    mask = length_mask(lengths, pred.size(1))[..., None].expand_as(pred)
    return (pred - target).abs().masked_select(mask).mean()


def stop_labels(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, max_len) float: 1 at each utterance's last frame and after, 0 before."""
    return (torch.arange(max_len, device=lengths.device)[None, :] >= (lengths[:, None] - 1)).float()


def stop_bce(logits: torch.Tensor, lengths: torch.Tensor, pos_weight: float) -> torch.Tensor:
    """Stop-token BCE with logits, averaged over valid frames; positives weighted by pos_weight.

    logits: (B, L) per-frame stop logits; lengths: (B,) valid frames (the last one is the stop).
    """
    labels = stop_labels(lengths, logits.size(1))
    mask = length_mask(lengths, logits.size(1))
    weight = torch.tensor(pos_weight, device=logits.device, dtype=torch.float32)
    return F.binary_cross_entropy_with_logits(
        logits.float().masked_select(mask), labels.masked_select(mask), pos_weight=weight
    )


class GuidedCrossAttentionLoss(torch.nn.Module):
    """Guided attention (Tachibana et al., 2018) on chosen heads of chosen decoder layers.

    The anchor applies it to the first 2 heads of every decoder layer's cross-attention. ESPnet's
    ``GuidedMultiHeadAttentionLoss`` does the masking and the mean; this class picks the maps.

    Args:
        sigma: width of the diagonal band (0.4).
        weight: scale of the loss (lambda, 1.0).
        num_heads: first N heads of each chosen layer (-1: all).
        layers: indices of decoder layers (None: all).
    """

    def __init__(self, sigma: float = 0.4, weight: float = 1.0, num_heads: int = 2, layers: Sequence[int] | None = None):
        super().__init__()
        self.num_heads = num_heads
        self.layers = None if layers is None else list(layers)
        self.criterion = GuidedMultiHeadAttentionLoss(sigma=sigma, alpha=weight, reset_always=True)

    def forward(self, cross_attn: Sequence[torch.Tensor], ilens: torch.Tensor, olens: torch.Tensor) -> torch.Tensor:
        """cross_attn: per layer (B, H, U, T); ilens (B,) memory frames; olens (B,) decoder steps."""
        layers = range(len(cross_attn)) if self.layers is None else self.layers
        heads = None if self.num_heads < 0 else self.num_heads
        att = torch.cat([cross_attn[i][:, :heads] for i in layers], dim=1)  # (B, H*L, U, T)
        return self.criterion(att.float(), ilens, olens)
