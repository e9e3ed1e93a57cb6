"""The log10 mel spectrogram every vocoder here consumes, computed as the acoustic models do.

Defaults are the SpeechT5 settings (16 kHz, n_fft 1024, hop 256, win 1024 Hann, center with
reflect padding, 80 Slaney mels, fmin 80, fmax 7600, log10 with floor 1e-10, no normalisation).
dMel uses the same settings with hop 400 (40 Hz) or 200 (80 Hz) and win 800. ESPnet's
``LogMelFbank`` computes the features so a vocoder sees exactly what the acoustic model sees.

One difference to transformers' ``SpeechT5FeatureExtractor`` (librosa-style): ESPnet (and dMel)
floor the STFT power at 1e-10 before the square root, so digital silence gives about -6.2
instead of -10; wherever the signal is above that floor the two agree to 1e-4.
"""
import logging
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import torch


@dataclass(frozen=True)
class MelConfig:
    """Mel settings shared by feature extraction, Griffin-Lim and vocoder checks."""

    fs: int = 16000  # Hz
    n_fft: int = 1024  # samples
    hop_length: int = 256  # samples
    win_length: int = 1024  # samples
    n_mels: int = 80
    fmin: int = 80  # Hz
    fmax: int = 7600  # Hz

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "MelConfig":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def mismatches(self, other: "MelConfig") -> dict:
        """{field: (self value, other value)} for every field that differs."""
        return {k: (v, getattr(other, k)) for k, v in asdict(self).items() if v != getattr(other, k)}


def add_mel_arguments(parser) -> None:
    """``--fs --n_fft --hop_length --win_length --n_mels --fmin --fmax`` with MelConfig defaults."""
    for name, f in MelConfig.__dataclass_fields__.items():
        parser.add_argument(f"--{name}", type=f.type, default=f.default, help=f"mel setting (default {f.default})")


def mel_from_args(args) -> MelConfig:
    return MelConfig(**{name: getattr(args, name) for name in MelConfig.__dataclass_fields__})


@lru_cache(maxsize=8)
def mel_frontend(cfg: MelConfig):
    """ESPnet's LogMelFbank for ``cfg`` (differentiable): (wav (B, S), lengths) -> ((B, T, n_mels), lengths)."""
    from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

    return LogMelFbank(
        fs=cfg.fs,
        n_fft=cfg.n_fft,
        win_length=cfg.win_length,
        hop_length=cfg.hop_length,
        window="hann",
        center=True,
        n_mels=cfg.n_mels,
        fmin=cfg.fmin,
        fmax=cfg.fmax,
        log_base=10.0,
    ).eval()


def log_mel(wav, cfg: MelConfig = MelConfig()) -> np.ndarray:
    """Waveform (S,) float at ``cfg.fs`` -> log10 mel (S // hop + 1, n_mels) float32."""
    x = torch.as_tensor(np.asarray(wav, dtype=np.float32))[None]
    with torch.no_grad():
        feats, _ = mel_frontend(cfg)(x, torch.tensor([x.shape[1]]))
    return feats[0].numpy().astype(np.float32)


def check_mel_compatible(vocoder_mel: MelConfig, expected: MelConfig, what: str) -> None:
    """Raise if rate, hop or mel count differ (wrong speed / shape); warn on other differences."""
    diff = vocoder_mel.mismatches(expected)
    fatal = {k: v for k, v in diff.items() if k in ("fs", "hop_length", "n_mels")}
    if fatal:
        raise ValueError(f"{what} was trained on other mel settings (vocoder, requested): {fatal}")
    if diff:
        logging.warning("%s: mel settings differ from the requested ones (vocoder, requested): %s", what, diff)
