"""Speech decoder pre-net (Tacotron prenet + speaker embedding) and post-net (mel, stop, conv postnet)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from espnet_ext.speecht5.config import SpeechT5Config
from espnet_ext.speecht5.cpu_precision import conv_fp32_on_cpu
from espnet_ext.speecht5.positions import ScaledPositionalEncoding


class SpeechDecoderPrenet(nn.Module):
    """prev mel (B, U, n_mels) -> decoder input (B, U, D).

    ReLU layers with dropout that stays ON at inference by default (Tacotron 2: the noise makes
    autoregressive synthesis robust); set `dropout_at_inference = False` for deterministic output.
    Then Linear(units -> D) + alpha-scaled positions, and, given a speaker embedding,
    ReLU(Linear([x, L2-normalised spemb])).
    """

    def __init__(self, cfg: SpeechT5Config):
        super().__init__()
        sizes = [cfg.num_mel_bins] + [cfg.speech_decoder_prenet_units] * cfg.speech_decoder_prenet_layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.p = cfg.speech_decoder_prenet_dropout
        self.dropout_at_inference = True
        self.final_layer = nn.Linear(sizes[-1], cfg.d_model)
        self.encode_positions = ScaledPositionalEncoding(cfg.d_model, cfg.positional_dropout, cfg.max_speech_positions)
        self.speaker_embeds_layer = nn.Linear(cfg.spk_embed_dim + cfg.d_model, cfg.d_model)
        self._speaker_cache = None  # inference only: (embeddings, versions, speaker term)

    def forward(self, prev_mel: torch.Tensor, spembs: torch.Tensor | None = None, offset: int = 0) -> torch.Tensor:
        """prev_mel (B, U, n_mels), spembs (B, spk_embed_dim) or None; offset = first frame's position."""
        x = prev_mel
        apply_dropout = self.training or self.dropout_at_inference
        for layer in self.layers:
            x = F.dropout(F.relu(layer(x)), self.p, training=apply_dropout)
        x = self.encode_positions(self.final_layer(x), offset)
        if spembs is None:
            return x
        if torch.is_grad_enabled():
            spk = F.normalize(spembs).unsqueeze(1).expand(-1, x.size(1), -1)
            return F.relu(self.speaker_embeds_layer(torch.cat([x, spk.to(x.dtype)], dim=-1)))
        # inference: W [x; s] + b = W_x x + (W_s s + b), the speaker part made once per utterance
        # batch (autoregressive synthesis calls this every step with the same embeddings)
        d = x.size(-1)
        weight = self.speaker_embeds_layer.weight
        return F.relu(F.linear(x, weight[:, :d]) + self._speaker_term(spembs)[:, None].to(x.dtype))

    def _speaker_term(self, spembs: torch.Tensor) -> torch.Tensor:
        """(B, spk_embed_dim) -> W_s normalize(s) + b (B, D), kept while the same embedding tensor
        (the cache holds it, so no other tensor can take its place) and weights come back."""
        layer = self.speaker_embeds_layer
        versions = (spembs._version, layer.weight._version, layer.bias._version)
        cached = self._speaker_cache
        if cached is None or cached[0] is not spembs or cached[1] != versions:
            d = layer.weight.size(0)
            term = F.linear(F.normalize(spembs).to(layer.weight.dtype), layer.weight[:, d:], layer.bias)
            cached = self._speaker_cache = (spembs, versions, term)
        return cached[2]

    def _apply(self, fn, *args, **kwargs):
        self._speaker_cache = None  # dtype / device changes: recompute
        return super()._apply(fn, *args, **kwargs)


class PostnetLayer(nn.Module):
    """Conv1d (no bias, 'same' padding) -> BatchNorm1d [-> tanh] -> dropout."""

    def __init__(self, in_dim: int, out_dim: int, kernel: int, dropout: float, last: bool):
        super().__init__()
        self.conv = nn.Conv1d(in_dim, out_dim, kernel, padding=(kernel - 1) // 2, bias=False)
        self.batch_norm = nn.BatchNorm1d(out_dim)
        self.last = last
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.batch_norm(conv_fp32_on_cpu(self.conv, x))
        return self.dropout(x if self.last else torch.tanh(x))


class Postnet(nn.Module):
    """Residual 5-conv postnet: mel (B, T, n_mels) -> mel + convs(mel)."""

    def __init__(self, cfg: SpeechT5Config):
        super().__init__()
        n = cfg.postnet_layers
        dims = [cfg.num_mel_bins] + [cfg.postnet_units] * (n - 1) + [cfg.num_mel_bins]
        self.layers = nn.ModuleList(
            PostnetLayer(dims[i], dims[i + 1], cfg.postnet_kernel, cfg.postnet_dropout, i == n - 1) for i in range(n)
        )

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        y = mel.transpose(1, 2)
        for layer in self.layers:
            y = layer(y)
        return mel + y.transpose(1, 2)


class SpeechDecoderPostnet(nn.Module):
    """Decoder states (B, U, D) -> r mel frames and r stop logits per state, and the refined mel."""

    def __init__(self, cfg: SpeechT5Config):
        super().__init__()
        self.num_mel_bins = cfg.num_mel_bins
        self.reduction_factor = cfg.reduction_factor
        self.feat_out = nn.Linear(cfg.d_model, cfg.num_mel_bins * cfg.reduction_factor)
        self.prob_out = nn.Linear(cfg.d_model, cfg.reduction_factor)
        self.postnet = Postnet(cfg)

    def frames(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """h (B, U, D) -> mel before postnet (B, U*r, n_mels), stop logits (B, U*r)."""
        b = h.size(0)
        return self.feat_out(h).view(b, -1, self.num_mel_bins), self.prob_out(h).view(b, -1)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """h (B, U, D) -> (feat_before, feat_after) (B, U*r, n_mels), stop logits (B, U*r)."""
        before, stop = self.frames(h)
        return before, self.postnet(before), stop
