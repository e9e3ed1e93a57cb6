"""Training-time masking (paper section 2.3 and appendix D).

- ``span_mask``: with probability p a sample's context (the target modality's previous tokens:
  speech frames for TTS, characters for ASR) gets random spans hidden, ``ratio`` of its tokens in
  spans of mean length ``mean_span`` (T5-style span corruption, without sentinels: the model input
  there becomes a learned mask embedding, the targets stay).
- ``spec_augment``: for ASR, frequency and time masks on the (decoded) log-mel, filled with the
  utterance's mean value (the paper found the mean slightly better than zero). Time-mask widths
  are bounded by ``max_time_width`` frames and by ``max_time_ratio`` of the utterance length.
"""
from typing import Optional

import torch


def _composition(total: int, parts: int, g: torch.Generator, positive: bool) -> torch.Tensor:
    """Random split of ``total`` into ``parts`` integers (>= 1 if positive, else >= 0), uniform over splits."""
    if positive:
        cuts = torch.randperm(total - 1, generator=g)[: parts - 1] + 1 if parts > 1 else torch.empty(0, dtype=torch.long)
        edges = torch.cat([torch.tensor([0]), cuts.sort().values, torch.tensor([total])])
        return edges.diff()
    return _composition(total + parts, parts, g, positive=True) - 1


def span_mask_one(n: int, ratio: float, mean_span: float, g: torch.Generator) -> torch.Tensor:
    """(n,) bool: round(n * ratio) masked tokens in about (masked / mean_span) separate spans."""
    n_mask = min(max(int(round(n * ratio)), 1), n - 1) if n >= 2 else 0
    if n_mask == 0:
        return torch.zeros(n, dtype=torch.bool)
    n_keep = n - n_mask
    n_spans = max(1, min(int(round(n_mask / mean_span)), n_mask, n_keep + 1))
    spans = _composition(n_mask, n_spans, g, positive=True)
    # n_spans + 1 gaps: the inner ones >= 1 so that spans stay separate, the outer ones >= 0.
    gaps = _composition(n_keep - (n_spans - 1), n_spans + 1, g, positive=False)
    gaps[1:-1] += 1
    out = torch.zeros(n, dtype=torch.bool)
    pos = int(gaps[0])
    for span, gap in zip(spans.tolist(), gaps[1:].tolist()):
        out[pos : pos + span] = True
        pos += span + gap
    return out


def span_mask(
    maskable: torch.Tensor,
    p: float = 0.8,
    mean_span: float = 3.0,
    ratio: float = 0.5,
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    """maskable (B, L) bool, one contiguous run per row -> (B, L) bool positions to hide.

    Each row is masked with probability ``p``; a masked row hides ``ratio`` of its maskable tokens.
    Defaults are the paper's (appendix D: p 0.8, mean span 3, ratio 0.5).
    """
    g = generator if generator is not None else torch.default_generator
    out = torch.zeros_like(maskable, dtype=torch.bool, device="cpu")
    where = maskable.cpu()
    for b in range(maskable.shape[0]):
        idx = where[b].nonzero().flatten()
        if len(idx) == 0 or torch.rand((), generator=g).item() >= p:
            continue
        out[b, idx[0] : idx[0] + len(idx)] = span_mask_one(len(idx), ratio, mean_span, g)
    return out.to(maskable.device)


def _band_mask(size: int, starts: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
    """starts, widths (B, M) -> (B, size) bool union of [start, start + width)."""
    r = torch.arange(size, device=starts.device)[None, None, :]
    return ((r >= starts[..., None]) & (r < (starts + widths)[..., None])).any(1)


def spec_augment(
    mel: torch.Tensor,
    lengths: torch.Tensor,
    n_freq_masks: int = 2,
    max_freq_width: int = 30,
    n_time_masks: int = 10,
    max_time_width: int = 50,
    max_time_ratio: float = 0.1,
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    """mel (B, T, C), lengths (B,) frames -> masked copy; masked cells take the utterance mean."""
    B, T, C = mel.shape
    dev = mel.device

    def rand(*shape):
        return torch.rand(*shape, generator=generator).to(dev)

    valid = (torch.arange(T, device=dev)[None, :] < lengths[:, None])[..., None]
    mean = (mel * valid).sum((1, 2)) / (lengths.clamp(min=1) * C)
    f_width = (rand(B, n_freq_masks) * (max_freq_width + 1)).long().clamp(max=C)
    f_start = (rand(B, n_freq_masks) * (C - f_width + 1)).long()
    t_max = torch.minimum(torch.full_like(lengths, max_time_width), (lengths * max_time_ratio).long())
    t_width = (rand(B, n_time_masks) * (t_max[:, None] + 1)).long()
    t_start = (rand(B, n_time_masks) * (lengths[:, None] - t_width + 1).clamp(min=1)).long()
    masked = _band_mask(C, f_start, f_width)[:, None, :] | _band_mask(T, t_start, t_width)[:, :, None]
    masked &= valid
    return torch.where(masked, mean[:, None, None].to(mel.dtype), mel)
