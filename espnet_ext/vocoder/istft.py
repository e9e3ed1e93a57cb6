"""ISTFT vocoder: ConvNeXt blocks at the frame rate predict an STFT, an inverse STFT gives the waveform.

The idea of Vocos (Siuzdenak, 2023) and iSTFTNet (Kaneko et al., 2022): instead of upsampling a
mel by the hop with transposed convolutions (HiFi-GAN), predict for every mel frame the
log-magnitude and phase of one STFT frame and let ``torch.istft`` do the upsampling. All layers
run at the frame rate, which is what makes it cheap enough to train on a CPU.

A log10 mel (B, T, n_mels) is normalised with the vocoder's own per-channel mean and scale, then:
Conv1d (kernel 7) embedding -> LayerNorm -> ``num_layers`` ConvNeXt blocks -> LayerNorm ->
Linear to (n_fft / 2 + 1) log-magnitudes and as many phases -> complex spectrum -> inverse STFT
(Hann window, centred frames). Output: (B, T * hop_length) samples, the pairing of
``features.log_mel`` (frame t is centred on sample t * hop_length).

Saved as a training directory: ``config.yaml`` (``vocoder_type: istft``, generator and mel
settings, training settings) and ``checkpoint-<N>steps.pth`` (model, optimizer, step).
"""
from pathlib import Path

import numpy as np
import torch
import yaml
from torch import nn
from torch.nn import functional as F

from espnet_ext.vocoder.base import Vocoder, latest_step_checkpoint
from espnet_ext.vocoder.features import MelConfig, check_mel_compatible

CONFIG_FILE = "config.yaml"
VOCODER_TYPE = "istft"  # the ``vocoder_type`` written to config.yaml; load_vocoder dispatches on it
MAX_MAGNITUDE = 1e2  # exp(log-magnitude) is clipped here: an early large output must not blow up the loss


class ConvNeXtBlock(nn.Module):
    """Depthwise conv (kernel 7) -> LayerNorm -> Linear up -> GELU -> Linear down, scaled, residual."""

    def __init__(self, dim: int, intermediate_dim: int, layer_scale: float):
        super().__init__()
        self.depthwise = nn.Conv1d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.up = nn.Linear(dim, intermediate_dim)
        self.down = nn.Linear(intermediate_dim, dim)
        self.scale = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, dim, T) -> (B, dim, T)."""
        y = self.norm(self.depthwise(x).transpose(1, 2))
        y = self.scale * self.down(F.gelu(self.up(y)))
        return x + y.transpose(1, 2)


class ISTFTGenerator(nn.Module):
    """log10 mel (B, T, n_mels) -> waveform (B, T * hop_length). Default sizes: 7.7M parameters."""

    def __init__(
        self,
        n_mels: int = 80,
        dim: int = 384,
        intermediate_dim: int = 1152,
        num_layers: int = 8,
        n_fft: int = 1024,
        hop_length: int = 256,
        win_length: int = 1024,
    ):
        super().__init__()
        if n_fft < 2 * hop_length:
            raise ValueError(f"n_fft ({n_fft}) must be at least twice the hop ({hop_length}) to cover T * hop samples")
        self.params = dict(
            n_mels=n_mels, dim=dim, intermediate_dim=intermediate_dim, num_layers=num_layers,
            n_fft=n_fft, hop_length=hop_length, win_length=win_length,
        )  # fmt: skip
        self.n_fft, self.hop_length, self.win_length = n_fft, hop_length, win_length
        self.embed = nn.Conv1d(n_mels, dim, kernel_size=7, padding=3)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.blocks = nn.ModuleList(ConvNeXtBlock(dim, intermediate_dim, 1.0 / num_layers) for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, (n_fft // 2 + 1) * 2)
        # Per-channel statistics of the training mels (identity until the trainer sets them).
        self.register_buffer("mel_mean", torch.zeros(n_mels))
        self.register_buffer("mel_scale", torch.ones(n_mels))
        self.register_buffer("window", torch.hann_window(win_length), persistent=False)

    def set_stats(self, stats: np.ndarray) -> None:
        """(2, n_mels) rows mean, scale (``train.feature_stats``) -> the input normalisation."""
        self.mel_mean.copy_(torch.as_tensor(stats[0]))
        self.mel_scale.copy_(torch.as_tensor(stats[1]))

    def spectrum(self, mel: torch.Tensor) -> torch.Tensor:
        """log10 mel (B, T, n_mels) -> complex STFT (B, n_fft / 2 + 1, T)."""
        x = self.embed(((mel - self.mel_mean) / self.mel_scale).transpose(1, 2))
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        log_magnitude, phase = self.head(self.final_norm(x.transpose(1, 2))).transpose(1, 2).chunk(2, dim=1)
        magnitude = torch.exp(log_magnitude).clamp(max=MAX_MAGNITUDE)
        return torch.complex(magnitude * torch.cos(phase), magnitude * torch.sin(phase))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """log10 mel (B, T, n_mels) -> waveform (B, T * hop_length)."""
        return torch.istft(
            self.spectrum(mel),
            self.n_fft,
            self.hop_length,
            self.win_length,
            window=self.window,
            center=True,
            length=mel.shape[1] * self.hop_length,  # centred frames reach n_fft / 2 >= hop past the last
        )


def is_istft_dir(path) -> bool:
    cfg = Path(path) / CONFIG_FILE
    return cfg.is_file() and (yaml.safe_load(cfg.read_text()) or {}).get("vocoder_type") == VOCODER_TYPE


def checkpoint_name(step: int) -> str:
    return f"checkpoint-{step}steps.pth"


def latest_checkpoint(exp_dir) -> Path:
    """The ``checkpoint-<N>steps.pth`` with the largest N in ``exp_dir``."""
    return latest_step_checkpoint(exp_dir, ".pth")


def load_istft(checkpoint) -> "tuple[ISTFTGenerator, MelConfig]":
    """``checkpoint-<N>steps.pth`` (``config.yaml`` beside it) -> (generator in eval mode, its mel settings)."""
    checkpoint = Path(checkpoint)
    config = yaml.safe_load((checkpoint.parent / CONFIG_FILE).read_text())
    generator = ISTFTGenerator(**config["generator_params"])
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    generator.load_state_dict(state["model"])
    return generator.eval(), MelConfig.from_dict(config["mel"])


class ISTFTVocoder(Vocoder):
    name = VOCODER_TYPE

    def __init__(self, generator: ISTFTGenerator, mel: MelConfig):
        super().__init__(mel)
        if generator.hop_length != mel.hop_length:
            raise ValueError(f"the ISTFT vocoder hops {generator.hop_length} samples, the mel {mel.hop_length}")
        self.generator = generator.eval()

    @classmethod
    def from_checkpoint(cls, checkpoint, expected: MelConfig = None) -> "ISTFTVocoder":
        generator, mel = load_istft(checkpoint)
        if expected is not None:
            check_mel_compatible(mel, expected, f"ISTFT vocoder {checkpoint}")
        return cls(generator, mel)

    @torch.no_grad()
    def synthesize(self, mel: np.ndarray) -> np.ndarray:
        return self.generator(torch.tensor(mel)[None])[0].numpy()  # a copy: mels may be read-only views
