"""HiFi-GAN generator (Kong et al., 2020) as used by SpeechT5 (``microsoft/speecht5_hifigan``).

A log10 mel (B, T, 80) is optionally normalised with the vocoder's own per-channel mean and
scale, then: input conv (kernel 7) -> for each upsampling stage: LeakyReLU, transposed conv
(stride = upsample rate), multi-receptive-field fusion (the mean of K residual blocks with
different kernels and dilations) -> LeakyReLU(0.01) -> output conv (kernel 7) -> tanh.
Output: (B, T * prod(upsample_rates)) samples.

Saved as a directory: ``config.yaml`` (generator + mel settings) and ``model.pth`` (state dict).
"""
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import List

import numpy as np
import torch
import yaml
from torch import nn
from torch.nn import functional as F

from espnet_ext.vocoder.base import Vocoder
from espnet_ext.vocoder.features import MelConfig

CONFIG_FILE = "config.yaml"
MODEL_FILE = "model.pth"
VOCODER_TYPE = "hifigan"  # the ``vocoder_type`` written to config.yaml; load_vocoder dispatches on it
FINAL_LEAKY_SLOPE = 0.01  # the last activation uses LeakyReLU's default slope in SpeechT5's model


@dataclass
class HiFiGANConfig:
    """Generator sizes; defaults are SpeechT5's (upsampling 4*4*4*4 = 256 = hop)."""

    in_dim: int = 80
    upsample_initial_channel: int = 512
    upsample_rates: List[int] = field(default_factory=lambda: [4, 4, 4, 4])
    upsample_kernel_sizes: List[int] = field(default_factory=lambda: [8, 8, 8, 8])
    resblock_kernel_sizes: List[int] = field(default_factory=lambda: [3, 7, 11])
    resblock_dilation_sizes: List[List[int]] = field(default_factory=lambda: [[1, 3, 5]] * 3)
    leaky_relu_slope: float = 0.1
    normalize_before: bool = True  # (mel - mean) / scale with the vocoder's stored statistics

    @property
    def hop_length(self) -> int:
        return int(np.prod(self.upsample_rates))


def _same_padding(kernel_size: int, dilation: int) -> int:
    return (kernel_size - 1) * dilation // 2


class ResBlock(nn.Module):
    """Pairs (dilated conv, plain conv), each pair a residual unit with LeakyReLU before each conv."""

    def __init__(self, channels: int, kernel_size: int, dilations: List[int], slope: float):
        super().__init__()
        self.slope = slope
        self.dilated_convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=_same_padding(kernel_size, d))
            for d in dilations
        )
        self.plain_convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, padding=_same_padding(kernel_size, 1)) for _ in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, S) -> (B, C, S)."""
        for dilated, plain in zip(self.dilated_convs, self.plain_convs):
            y = dilated(F.leaky_relu(x, self.slope))
            x = x + plain(F.leaky_relu(y, self.slope))
        return x


class MultiReceptiveFieldFusion(nn.Module):
    """The mean of residual blocks with different receptive fields (the paper's MRF module)."""

    def __init__(self, channels: int, kernel_sizes: List[int], dilations: List[List[int]], slope: float):
        super().__init__()
        self.blocks = nn.ModuleList(ResBlock(channels, k, d, slope) for k, d in zip(kernel_sizes, dilations))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([block(x) for block in self.blocks]).mean(dim=0)


class HiFiGANGenerator(nn.Module):
    def __init__(self, config: HiFiGANConfig = HiFiGANConfig()):
        super().__init__()
        self.config = config
        c = config
        self.input_conv = nn.Conv1d(c.in_dim, c.upsample_initial_channel, 7, padding=3)
        self.upsample = nn.ModuleList()
        self.mrf = nn.ModuleList()
        channels = c.upsample_initial_channel
        for rate, kernel in zip(c.upsample_rates, c.upsample_kernel_sizes):
            self.upsample.append(
                nn.ConvTranspose1d(channels, channels // 2, kernel, stride=rate, padding=(kernel - rate) // 2)
            )
            channels //= 2
            self.mrf.append(
                MultiReceptiveFieldFusion(
                    channels, c.resblock_kernel_sizes, c.resblock_dilation_sizes, c.leaky_relu_slope
                )
            )
        self.output_conv = nn.Conv1d(channels, 1, 7, padding=3)
        # Per-channel statistics of the mels the vocoder was trained on (identity until loaded).
        self.register_buffer("mel_mean", torch.zeros(c.in_dim))
        self.register_buffer("mel_scale", torch.ones(c.in_dim))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """log10 mel (B, T, in_dim) -> waveform (B, T * hop_length)."""
        if self.config.normalize_before:
            mel = (mel - self.mel_mean) / self.mel_scale
        x = self.input_conv(mel.transpose(1, 2))
        for upsample, mrf in zip(self.upsample, self.mrf):
            x = mrf(upsample(F.leaky_relu(x, self.config.leaky_relu_slope)))
        x = self.output_conv(F.leaky_relu(x, FINAL_LEAKY_SLOPE))
        return torch.tanh(x).squeeze(1)


def save_hifigan(out_dir, generator: HiFiGANGenerator, mel: MelConfig, source: str = "") -> Path:
    """Write ``config.yaml`` + ``model.pth`` to ``out_dir``; returns the directory."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config = {
        "vocoder_type": VOCODER_TYPE,
        "generator": asdict(generator.config),
        "mel": mel.to_dict(),
        "source": str(source),
    }
    (out / CONFIG_FILE).write_text(yaml.safe_dump(config, sort_keys=False))
    torch.save(generator.state_dict(), out / MODEL_FILE)
    return out


def is_hifigan_dir(path) -> bool:
    cfg = Path(path) / CONFIG_FILE
    return cfg.is_file() and (yaml.safe_load(cfg.read_text()) or {}).get("vocoder_type") == VOCODER_TYPE


def load_hifigan(model_dir) -> "tuple[HiFiGANGenerator, MelConfig]":
    """Directory written by ``save_hifigan`` -> (generator in eval mode, its mel settings)."""
    model_dir = Path(model_dir)
    config = yaml.safe_load((model_dir / CONFIG_FILE).read_text())
    generator = HiFiGANGenerator(HiFiGANConfig(**config["generator"]))
    generator.load_state_dict(torch.load(model_dir / MODEL_FILE, map_location="cpu", weights_only=True))
    return generator.eval(), MelConfig.from_dict(config["mel"])


class HiFiGANVocoder(Vocoder):
    name = "hifigan"

    def __init__(self, generator: HiFiGANGenerator, mel: MelConfig):
        super().__init__(mel)
        if generator.config.hop_length != mel.hop_length:
            raise ValueError(
                f"HiFi-GAN upsamples by {generator.config.hop_length} samples per frame, "
                f"but the mel hop is {mel.hop_length}"
            )
        self.generator = generator.eval()

    @torch.no_grad()
    def synthesize(self, mel: np.ndarray) -> np.ndarray:
        return self.generator(torch.from_numpy(mel)[None])[0].numpy()
