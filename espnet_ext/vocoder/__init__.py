"""Vocoders: (T, n_mels) log10 mel -> waveform. ``load_vocoder`` accepts every kind recipes use.

- ``None`` (or ``"griffin_lim"``): Griffin-Lim, the offline default.
- A directory written by ``python -m espnet_ext.bin.convert_hifigan`` (SpeechT5's HiFi-GAN),
  or its ``model.pth``; a raw Hugging Face ``SpeechT5HifiGan`` directory is converted on the fly.
- A parallel_wavegan checkpoint ``checkpoint-<N>steps.pkl`` with ``config.yml`` beside it (as
  ``python -m espnet_ext.bin.train_vocoder`` writes), or its directory (the latest checkpoint).
- An ISTFT vocoder checkpoint ``checkpoint-<N>steps.pth`` with ``config.yaml`` (``vocoder_type:
  istft``) beside it (``train_vocoder --vocoder_type istft``), or its directory (the latest).
"""
from pathlib import Path
from typing import Optional

from espnet_ext.vocoder.base import Vocoder
from espnet_ext.vocoder.features import MelConfig, check_mel_compatible, log_mel
from espnet_ext.vocoder.griffin_lim import GriffinLimVocoder

_MEL = MelConfig()
GRIFFIN_LIM_NAMES = ("", "none", "griffin_lim")


def load_vocoder(
    path: Optional[str] = None,
    fs: int = _MEL.fs,
    n_fft: int = _MEL.n_fft,
    hop_length: int = _MEL.hop_length,
    win_length: int = _MEL.win_length,
    n_mels: int = _MEL.n_mels,
    fmin: int = _MEL.fmin,
    fmax: int = _MEL.fmax,
) -> Vocoder:
    """A vocoder for mels with the given settings (raises if a trained one does not fit them)."""
    mel = MelConfig(fs, n_fft, hop_length, win_length, n_mels, fmin, fmax)
    if path is None or str(path).lower() in GRIFFIN_LIM_NAMES:
        return GriffinLimVocoder(mel)
    from espnet_ext.vocoder import hifigan, istft, parallel_wavegan, speecht5_hifigan

    path = Path(path)
    if path.is_file() and path.name in (hifigan.MODEL_FILE, hifigan.CONFIG_FILE):
        path = path.parent
    if path.is_dir() and hifigan.is_hifigan_dir(path):
        generator, trained_mel = hifigan.load_hifigan(path)
        check_mel_compatible(trained_mel, mel, f"HiFi-GAN {path}")
        return hifigan.HiFiGANVocoder(generator, trained_mel)
    if path.is_dir() and speecht5_hifigan.is_speecht5_hifigan_dir(path):
        generator = speecht5_hifigan.load_speecht5_hifigan(path)
        check_mel_compatible(speecht5_hifigan.implied_mel(path, generator, mel), mel, f"SpeechT5 HiFi-GAN {path}")
        return hifigan.HiFiGANVocoder(generator, mel)
    if path.is_dir() and istft.is_istft_dir(path):
        path = istft.latest_checkpoint(path)
    if path.is_file() and path.suffix == ".pth" and istft.is_istft_dir(path.parent):
        return istft.ISTFTVocoder.from_checkpoint(path, expected=mel)
    if path.is_dir() and (path / parallel_wavegan.CONFIG_FILE).is_file():
        path = parallel_wavegan.latest_checkpoint(path)
    if path.is_file() and path.suffix == ".pkl":
        return parallel_wavegan.ParallelWaveGANVocoder(path, expected=mel)
    raise ValueError(
        f"not a vocoder: {path} (expected None for Griffin-Lim, a converted HiFi-GAN directory, a "
        "Hugging Face SpeechT5HifiGan directory, a parallel_wavegan checkpoint .pkl with config.yml, or an "
        "ISTFT vocoder directory or checkpoint .pth)"
    )


__all__ = ["Vocoder", "MelConfig", "GriffinLimVocoder", "load_vocoder", "log_mel", "check_mel_compatible"]
