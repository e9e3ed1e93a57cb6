"""Griffin-Lim from a log10 mel: the offline default vocoder (no training, no download).

The mel is inverted to a linear magnitude spectrogram by non-negative least squares against the
same Slaney mel filterbank (librosa), then the phase is estimated with fast Griffin-Lim
(momentum 0.99). Works for any hop (256 for SpeechT5, 400 / 200 for dMel).
"""
import librosa
import numpy as np

from espnet_ext.vocoder.base import Vocoder
from espnet_ext.vocoder.features import MelConfig


class GriffinLimVocoder(Vocoder):
    name = "griffin_lim"

    def __init__(self, mel: MelConfig = MelConfig(), n_iter: int = 32, momentum: float = 0.99, seed: int = 0):
        super().__init__(mel)
        self.n_iter = n_iter
        self.momentum = momentum
        self.seed = seed  # the initial random phase; fixed so a rerun gives the same waveform

    def magnitude(self, mel: np.ndarray) -> np.ndarray:
        """log10 mel (T, n_mels) -> linear magnitude spectrogram (n_fft // 2 + 1, T)."""
        c = self.mel
        return librosa.feature.inverse.mel_to_stft(
            np.power(10.0, mel.T.astype(np.float64)),
            sr=c.fs,
            n_fft=c.n_fft,
            power=1.0,  # the features are mel-filtered magnitudes, not powers
            fmin=c.fmin,
            fmax=c.fmax,
            htk=False,
            norm="slaney",
        )

    def synthesize(self, mel: np.ndarray) -> np.ndarray:
        c = self.mel
        wav = librosa.griffinlim(
            self.magnitude(mel),
            n_iter=self.n_iter,
            hop_length=c.hop_length,
            win_length=c.win_length,
            n_fft=c.n_fft,
            window="hann",
            center=True,
            momentum=self.momentum,
            random_state=self.seed,
            length=(len(mel) - 1) * c.hop_length,  # T frames come from (T - 1) * hop samples
        )
        return np.pad(wav, (0, c.hop_length))  # T * hop samples, as every neural vocoder here
