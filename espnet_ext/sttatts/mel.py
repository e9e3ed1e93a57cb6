"""The speech-output target: ESPnet's LogMelFbank with SpeechT5's mel settings as defaults.

SpeechT5 (and its HiFi-GAN) use 16 kHz, n_fft 1024, hop 256, win 1024 Hann, 80 Slaney mels from
80 to 7600 Hz, log10 of the magnitude, no normalisation; the values live in
``espnet_ext.vocoder.features.MelConfig`` so the model and the vocoders cannot drift apart.
"""
from __future__ import annotations

from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

from espnet_ext.vocoder.features import MelConfig

_MEL = MelConfig()


class SpeechT5LogMel(LogMelFbank):
    """waveform (B, S) at ``fs`` -> log10 mel (B, S // hop + 1, n_mels), lengths (B,)."""

    def __init__(
        self,
        fs: int = _MEL.fs,
        n_fft: int = _MEL.n_fft,
        win_length: int = _MEL.win_length,
        hop_length: int = _MEL.hop_length,
        n_mels: int = _MEL.n_mels,
        fmin: int = _MEL.fmin,
        fmax: int = _MEL.fmax,
    ):
        super().__init__(
            fs=fs,
            n_fft=n_fft,
            win_length=win_length,
            hop_length=hop_length,
            window="hann",
            center=True,
            normalized=False,
            onesided=True,
            n_mels=n_mels,
            fmin=fmin,
            fmax=fmax,
            htk=False,
            log_base=10.0,
        )


def mel_config(feats_extract) -> MelConfig:
    """The MelConfig of a LogMelFbank-like module (what a vocoder for its outputs must match)."""
    win = feats_extract.win_length or feats_extract.n_fft
    return MelConfig(
        int(feats_extract.fs),
        feats_extract.n_fft,
        feats_extract.hop_length,
        win,
        feats_extract.n_mels,
        feats_extract.fmin,
        feats_extract.fmax,
    )
