"""The vocoder interface: a (T, n_mels) log10 mel -> a 1-D float32 waveform at ``mel.fs``."""
import re
from pathlib import Path

import numpy as np
import torch

from espnet_ext.vocoder.features import MelConfig


class Vocoder:
    """Callable vocoder. ``name`` says which kind produced a waveform (for logs and RESULTS.md)."""

    name = ""

    def __init__(self, mel: MelConfig):
        self.mel = mel

    @property
    def fs(self) -> int:
        return self.mel.fs

    def __call__(self, mel) -> np.ndarray:
        """log10 mel (T, n_mels), numpy or torch -> waveform (T * hop_length,) float32 in [-1, 1]."""
        wav = np.asarray(self.synthesize(self._as_numpy(mel)), dtype=np.float32).reshape(-1)
        return np.clip(wav, -1.0, 1.0)  # GAN generators without tanh can overshoot

    def synthesize(self, mel: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _as_numpy(self, mel) -> np.ndarray:
        if isinstance(mel, torch.Tensor):
            mel = mel.detach().cpu().numpy()
        mel = np.asarray(mel, dtype=np.float32)
        if mel.ndim != 2 or mel.shape[1] != self.mel.n_mels:
            raise ValueError(f"{self.name} vocoder expects a (T, {self.mel.n_mels}) mel, got shape {mel.shape}")
        return mel

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, mel={self.mel})"


def latest_step_checkpoint(exp_dir, suffix: str) -> Path:
    """The ``checkpoint-<N>steps<suffix>`` with the largest N in ``exp_dir`` (both trainers' naming)."""
    found = sorted(Path(exp_dir).glob(f"checkpoint-*steps{suffix}"), key=lambda p: int(re.findall(r"\d+", p.name)[-1]))
    if not found:
        raise FileNotFoundError(f"no checkpoint-*steps{suffix} in {exp_dir}")
    return found[-1]
