"""Mel-cepstral distortion (MCD, dB) between a reference recording and a generated waveform.

Mel cepstra come from the same 80-bin log10 mel the vocoders consume (no WORLD / SPTK needed):
with L_k = ln|X| in mel band k (k = 0..K-1, bands uniformly spaced on the mel scale),

    c_m = (1/K) * sum_k L_k * cos(pi * m * (k + 1/2) / K)

the cosine-series coefficients of ln|X(w)| = c_0 + 2 * sum_m c_m cos(m w) on the mel-warped
axis, i.e. the convention of the classic formula

    MCD = 10 * sqrt(2) / ln(10) * sqrt(sum_{m=1..D} (c_m - c'_m)^2)     (c_0, energy, excluded)

averaged over frame pairs. Frames are paired by dynamic time warping (librosa.sequence.dtw on the
Euclidean distance of c_1..c_D) so a different speaking rate costs little; ``use_dtw=False``
compares frame t with frame t over the shorter length. The numbers are comparable between
systems scored here; they are not the SPTK/WORLD MCD of published tables (different analysis).
"""
import math
from dataclasses import dataclass

import librosa
import numpy as np
import scipy.fft

from espnet_ext.vocoder.features import MelConfig, log_mel

MCD_CONSTANT = 10.0 * math.sqrt(2.0) / math.log(10.0)  # dB per unit of cepstral distance


@dataclass
class MCDResult:
    mcd: float  # dB, mean over aligned frame pairs
    frames_ref: int
    frames_gen: int
    path_length: int  # aligned frame pairs (DTW path length, or min length without DTW)


def mel_cepstrum(logmel10: np.ndarray, n_mcep: int = 24) -> np.ndarray:
    """log10 mel (T, K) -> mel cepstra c_0..c_{n_mcep} (T, n_mcep + 1)."""
    ln_mag = np.asarray(logmel10, dtype=np.float64) * math.log(10.0)
    k = ln_mag.shape[1]
    if n_mcep >= k:
        raise ValueError(f"n_mcep={n_mcep} needs more than {k} mel bands")
    # scipy's unnormalised DCT-II is 2 * sum_k L_k cos(pi m (2k+1) / 2K): divide by 2K.
    return scipy.fft.dct(ln_mag, type=2, axis=1, norm=None)[:, : n_mcep + 1] / (2 * k)


def mcd_from_cepstra(ref: np.ndarray, gen: np.ndarray, use_dtw: bool = True) -> MCDResult:
    """Mel cepstra (T1, D+1) and (T2, D+1), c_0 first (ignored) -> MCDResult."""
    a, b = ref[:, 1:], gen[:, 1:]
    if use_dtw:
        _, path = librosa.sequence.dtw(X=a.T, Y=b.T, metric="euclidean")
        a, b = a[path[:, 0]], b[path[:, 1]]
    else:
        n = min(len(a), len(b))
        a, b = a[:n], b[:n]
    dist = np.sqrt(((a - b) ** 2).sum(axis=1))
    return MCDResult(float(MCD_CONSTANT * dist.mean()), len(ref), len(gen), len(dist))


def mel_cepstral_distortion(
    ref_wav, gen_wav, mel: MelConfig = MelConfig(), n_mcep: int = 24, use_dtw: bool = True
) -> MCDResult:
    """Waveforms (S1,), (S2,) at ``mel.fs`` Hz -> MCD in dB (see the module docstring)."""
    ref = mel_cepstrum(log_mel(ref_wav, mel), n_mcep)
    gen = mel_cepstrum(log_mel(gen_wav, mel), n_mcep)
    return mcd_from_cepstra(ref, gen, use_dtw)
