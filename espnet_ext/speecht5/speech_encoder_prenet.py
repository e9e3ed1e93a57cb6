"""Speech encoder pre-net: wav2vec2-style conv feature extractor, SpecAugment-style masking, positions.

16 kHz waveform (B, S) -> frames (B, T, D) at the extractor's total stride (320 samples = 20 ms in
base). Checkpoint names follow fairseq SpeechT5 (`feature_extractor`, `layer_norm`,
`post_extract_proj`, `mask_emb`, `pos_conv`), see ANCHORS.md.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from espnet_ext.speecht5.config import SpeechT5Config
from espnet_ext.speecht5.cpu_precision import conv_fp32_on_cpu
from espnet_ext.speecht5.positions import SinusoidalPositionalEmbedding


class ConvLayer(nn.Module):
    """Conv1d (no bias in base) [-> GroupNorm with one group per channel] -> GELU."""

    def __init__(self, in_dim: int, out_dim: int, kernel: int, stride: int, bias: bool, group_norm: bool):
        super().__init__()
        self.conv = nn.Conv1d(in_dim, out_dim, kernel, stride=stride, bias=bias)
        self.norm = nn.GroupNorm(out_dim, out_dim, affine=True) if group_norm else None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, C_in, T_in) -> (B, C_out, T_out). With `lengths` (B,) valid output frames, the
        GroupNorm statistics are taken over those frames only (padding left out)."""
        x = conv_fp32_on_cpu(self.conv, x)
        if self.norm is not None:  # in at least fp32 (fairseq's Fp32GroupNorm), also under fp16/bf16
            dtype = torch.promote_types(x.dtype, torch.float32)
            n = self.norm
            if lengths is None:
                x = F.group_norm(x.to(dtype), n.num_groups, n.weight.to(dtype), n.bias.to(dtype), n.eps).type_as(x)
            else:
                x = masked_channel_norm(x.to(dtype), lengths, n).type_as(x)
        return F.gelu(x)


def masked_channel_norm(x: torch.Tensor, lengths: torch.Tensor, norm: nn.GroupNorm) -> torch.Tensor:
    """GroupNorm with one group per channel over the first `lengths` frames of each row: x (B, C, T),
    lengths (B,) -> (B, C, T), the valid frames normalised as if the row were alone (unpadded)."""
    if norm.num_groups != norm.num_channels:
        raise ValueError("masked normalisation needs one group per channel (the wav2vec2 extractor's)")
    valid = (torch.arange(x.size(-1), device=x.device)[None, :] < lengths[:, None]).to(x.dtype)[:, None, :]
    count = lengths.to(x.dtype).clamp(min=1)[:, None, None]
    mean = (x * valid).sum(-1, keepdim=True) / count
    centered = x - mean
    var = (centered.square() * valid).sum(-1, keepdim=True) / count  # biased, as GroupNorm's
    w, b = norm.weight.to(x.dtype)[None, :, None], norm.bias.to(x.dtype)[None, :, None]
    return centered * torch.rsqrt(var + norm.eps) * w + b


class FeatureExtractor(nn.Module):
    """The 7 strided convs (GroupNorm after the first only): (B, S) samples -> (B, C, T) frames."""

    def __init__(self, cfg: SpeechT5Config):
        super().__init__()
        dims = (1,) + cfg.conv_dim
        self.conv_layers = nn.ModuleList(
            ConvLayer(dims[i], dims[i + 1], cfg.conv_kernel[i], cfg.conv_stride[i], cfg.conv_bias, i == 0)
            for i in range(len(cfg.conv_dim))
        )

    def forward(self, wav: torch.Tensor, wav_lengths: torch.Tensor | None = None) -> torch.Tensor:
        """With `wav_lengths` (B,) samples, normalisation statistics leave the padding out."""
        x = wav.unsqueeze(1)
        lengths = wav_lengths
        for layer in self.conv_layers:
            if lengths is not None:
                kernel, stride = layer.conv.kernel_size[0], layer.conv.stride[0]
                lengths = torch.div(lengths - kernel, stride, rounding_mode="floor") + 1
            x = layer(x, lengths)
        return x


class PositionalConvEmbedding(nn.Module):
    """Grouped conv over time with weight normalisation (dim 2), "same" padding, GELU.

    Parameters keep fairseq's names: weight = weight_g * weight_v / ||weight_v|| (norm over the
    output and input channel axes, one norm per kernel tap).
    """

    def __init__(self, d_model: int, kernel: int, groups: int):
        super().__init__()
        self.groups = groups
        self.padding = kernel // 2
        self.trim = 1 if kernel % 2 == 0 else 0  # an even kernel with padding k//2 yields one extra frame
        self.weight_v = nn.Parameter(torch.empty(d_model, d_model // groups, kernel))
        self.weight_g = nn.Parameter(torch.empty(1, 1, kernel))
        self.bias = nn.Parameter(torch.zeros(d_model))
        self._weight_cache = None  # inference only: (parameter versions, weight)
        nn.init.normal_(self.weight_v, mean=0.0, std=(4.0 / (kernel * d_model)) ** 0.5)
        with torch.no_grad():
            self.weight_g.copy_(self.weight_v.norm(dim=(0, 1), keepdim=True))

    def _apply(self, fn, *args, **kwargs):
        self._weight_cache = None  # dtype / device changes: recompute
        return super()._apply(fn, *args, **kwargs)

    def weight(self) -> torch.Tensor:
        # torch's fused weight-norm kernel (norm over every dim but the kernel taps, dim 2): a
        # generic norm over dims (0, 1) of the (768, 48, 128) kernel is 4x slower
        if torch.is_grad_enabled():
            return torch._weight_norm(self.weight_v, self.weight_g, 2)
        # inference: computed once per parameter version (it costs as much as the convolution)
        key = tuple((p.data_ptr(), p._version) for p in (self.weight_v, self.weight_g))
        if self._weight_cache is None or self._weight_cache[0] != key:
            self._weight_cache = (key, torch._weight_norm(self.weight_v, self.weight_g, 2))
        return self._weight_cache[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, D) -> (B, T, D)."""
        y = F.conv1d(x.transpose(1, 2), self.weight(), self.bias, padding=self.padding, groups=self.groups)
        if self.trim:
            y = y[:, :, : -self.trim]
        return F.gelu(y).transpose(1, 2)


def span_mask(
    shape: tuple[int, int],
    prob: float,
    span: int,
    lengths: torch.Tensor | None = None,
    min_masks: int = 0,
    device: torch.device | None = None,
) -> torch.Tensor:
    """Random spans to mask (wav2vec2 / fairseq `compute_mask_indices`, static span lengths).

    Each row of length L gets max(min_masks, int(prob * L / span + u)) spans (u ~ U(0, 1), the
    probabilistic rounding of fairseq) of `span` items, starts drawn without replacement from
    [0, L - span]; overlapping spans merge. Returns (B, N) bool, True = masked.
    """
    batch, size = shape
    mask = torch.zeros(batch, size, dtype=torch.bool, device=device)
    if lengths is None:
        lengths = torch.full((batch,), size, dtype=torch.long)
    for b, length in enumerate(lengths.tolist()):
        span_b = min(span, length)
        if span_b < 1:
            continue
        n = max(min_masks, int(prob * length / span_b + float(torch.rand(()))))
        n = min(n, length - span_b + 1)
        starts = torch.randperm(length - span_b + 1)[:n]
        idx = (starts[:, None] + torch.arange(span_b)[None, :]).reshape(-1)
        mask[b, idx.to(mask.device)] = True
    return mask


class SpeechEncoderPrenet(nn.Module):
    """Waveform -> encoder input frames: convs, LayerNorm, projection, masking, conv + sinusoidal positions."""

    def __init__(self, cfg: SpeechT5Config):
        super().__init__()
        self.cfg = cfg
        self.feature_extractor = FeatureExtractor(cfg)
        self.layer_norm = nn.LayerNorm(cfg.conv_dim[-1], eps=cfg.layer_norm_eps)
        self.post_extract_proj = nn.Linear(cfg.conv_dim[-1], cfg.d_model)
        self.dropout = nn.Dropout(cfg.feat_proj_dropout)
        self.mask_emb = nn.Parameter(torch.empty(cfg.d_model).uniform_())
        self.pos_conv = PositionalConvEmbedding(cfg.d_model, cfg.pos_conv_kernel, cfg.pos_conv_groups)
        # padding_idx = pad_id: padded frames get the zero row, real frames positions 2, 3, ...
        self.embed_positions = SinusoidalPositionalEmbedding(
            cfg.d_model, cfg.pad_id, cfg.max_speech_positions + cfg.pad_id + 1
        )

    def output_lengths(self, wav_lengths: torch.Tensor) -> torch.Tensor:
        """Frames each conv stack yields for `wav_lengths` samples (floor((L - k) / s) + 1 per conv)."""
        lengths = wav_lengths
        for kernel, stride in zip(self.cfg.conv_kernel, self.cfg.conv_stride):
            lengths = torch.div(lengths - kernel, stride, rounding_mode="floor") + 1
        return lengths

    def frame_padding_mask(self, wav_lengths: torch.Tensor, num_samples: int, num_frames: int) -> torch.Tensor:
        """(B, T) bool, True = padded frame.

        `reshape_all` (fairseq SpeechT5, the default): the sample mask is cut to a multiple of T,
        reshaped (B, T, -1), and a frame is padding if all its samples are. `conv_lengths`
        (transformers): frames at index >= the conv output length are padding. They differ by
        about one frame at the end; the converter picks the one of the checkpoint's source.
        """
        frames = torch.arange(num_frames, device=wav_lengths.device)
        if self.cfg.padding_mask_mode == "conv_lengths":
            return frames[None, :] >= self.output_lengths(wav_lengths)[:, None]
        samples = torch.arange(num_samples, device=wav_lengths.device)
        sample_pad = samples[None, :] >= wav_lengths[:, None]
        usable = num_samples - num_samples % num_frames
        return sample_pad[:, :usable].view(len(wav_lengths), num_frames, -1).all(-1)

    def apply_masks(self, x: torch.Tensor, pad_mask: torch.Tensor) -> torch.Tensor:
        """SpecAugment-style masking (training only): time spans -> mask_emb, channel spans -> 0."""
        cfg = self.cfg
        b, t, d = x.shape
        if cfg.mask_time_prob > 0:
            time_mask = span_mask(
                (b, t), cfg.mask_time_prob, cfg.mask_time_length, (~pad_mask).sum(1), cfg.mask_time_min_masks, x.device
            )
            x = torch.where(time_mask[:, :, None], self.mask_emb.to(x.dtype), x)
        if cfg.mask_channel_prob > 0:
            channel_mask = span_mask((b, d), cfg.mask_channel_prob, cfg.mask_channel_length, device=x.device)
            x = x.masked_fill(channel_mask[:, None, :], 0.0)
        return x

    def forward(
        self, wav: torch.Tensor, wav_lengths: torch.Tensor, unpadded: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """wav (B, S) float at 16 kHz, wav_lengths (B,) samples -> x (B, T, D), pad_mask (B, T).

        `unpadded`: each row gets the frames it gets alone, without padding (batched inference):
        the first layer's GroupNorm (statistics over time) leaves the padded frames out, padded
        frames are zeroed before the positional convolution (as the zero padding of a row alone),
        and the padding mask is the conv output lengths'. Off (training, parity with fairseq /
        transformers): the statistics span the padded batch, as the checkpoints were trained.
        """
        features = self.feature_extractor(wav, wav_lengths if unpadded else None).transpose(1, 2)
        features = self.layer_norm(features)
        if unpadded:
            frames = torch.arange(features.size(1), device=wav.device)
            pad_mask = frames[None, :] >= self.output_lengths(wav_lengths)[:, None]
        else:
            pad_mask = self.frame_padding_mask(wav_lengths, wav.size(1), features.size(1))
        x = self.dropout(self.post_extract_proj(features))
        if self.training:
            x = self.apply_masks(x, pad_mask)
        if unpadded:
            x = x.masked_fill(pad_mask[:, :, None], 0.0)
        x = x + self.pos_conv(x)
        return x + self.embed_positions(~pad_mask).to(x.dtype), pad_mask
