"""parallel_wavegan checkpoints (``checkpoint-<N>steps.pkl`` + ``config.yml`` beside it).

``import_parallel_wavegan()`` is the one place that makes parallel_wavegan 0.6.1 importable with
current scipy: the package does ``from scipy.signal import kaiser`` at import time, a name scipy
moved to ``scipy.signal.windows.kaiser``.
"""
from pathlib import Path

import numpy as np
import torch
import yaml

from espnet_ext.vocoder.base import Vocoder, latest_step_checkpoint
from espnet_ext.vocoder.features import MelConfig, check_mel_compatible

CONFIG_FILE = "config.yml"
# parallel_wavegan config keys -> MelConfig fields.
MEL_KEYS = {
    "sampling_rate": "fs",
    "fft_size": "n_fft",
    "hop_size": "hop_length",
    "win_length": "win_length",
    "num_mels": "n_mels",
    "fmin": "fmin",
    "fmax": "fmax",
}


def import_parallel_wavegan():
    """Import parallel_wavegan (and its models) after providing ``scipy.signal.kaiser``."""
    import scipy.signal

    if not hasattr(scipy.signal, "kaiser"):
        from scipy.signal.windows import kaiser

        scipy.signal.kaiser = kaiser
    import parallel_wavegan
    import parallel_wavegan.models  # noqa: F401  (registers the generator classes)

    return parallel_wavegan


def mel_config_from_pwg(config: dict) -> MelConfig:
    """The mel settings recorded in a parallel_wavegan config.yml."""
    return MelConfig(**{ours: config[theirs] for theirs, ours in MEL_KEYS.items() if config.get(theirs) is not None})


def pwg_mel_settings(mel: MelConfig) -> dict:
    """MelConfig -> the parallel_wavegan config keys (the inverse of ``mel_config_from_pwg``)."""
    return {theirs: getattr(mel, ours) for theirs, ours in MEL_KEYS.items()}


def latest_checkpoint(exp_dir) -> Path:
    """The ``checkpoint-<N>steps.pkl`` with the largest N in ``exp_dir``."""
    return latest_step_checkpoint(exp_dir, ".pkl")


def _find_stats(checkpoint_dir: Path):
    for name in ("stats.h5", "stats.npy"):
        if (checkpoint_dir / name).is_file():
            return checkpoint_dir / name
    return None


def load_pwg_generator(checkpoint) -> "tuple[torch.nn.Module, dict, bool]":
    """Checkpoint path -> (generator in eval mode without weight norm, config, uses stats)."""
    import_parallel_wavegan()
    from parallel_wavegan.utils import load_model

    checkpoint = Path(checkpoint)
    config_path = checkpoint.parent / CONFIG_FILE
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} missing: a parallel_wavegan checkpoint needs its config.yml beside it")
    config = yaml.load(config_path.read_text(), Loader=yaml.Loader)
    stats = _find_stats(checkpoint.parent)
    model = load_model(str(checkpoint), config, stats=str(stats) if stats else None)
    if hasattr(model, "remove_weight_norm"):
        model.remove_weight_norm()
    return model.eval(), config, stats is not None


class ParallelWaveGANVocoder(Vocoder):
    """Any mel-conditioned parallel_wavegan generator (HiFiGAN, ParallelWaveGAN, MelGAN, ...)."""

    def __init__(self, checkpoint, expected: MelConfig = None):
        model, config, normalize = load_pwg_generator(checkpoint)
        mel = mel_config_from_pwg(config)
        super().__init__(mel)
        self.name = config.get("generator_type", "ParallelWaveGANGenerator")
        self.model, self.normalize, self.checkpoint = model, normalize, Path(checkpoint)
        if expected is not None:
            check_mel_compatible(mel, expected, f"parallel_wavegan checkpoint {checkpoint}")

    @torch.no_grad()
    def synthesize(self, mel: np.ndarray) -> np.ndarray:
        wav = self.model.inference(c=torch.from_numpy(mel), normalize_before=self.normalize)
        return wav.reshape(-1).numpy()

