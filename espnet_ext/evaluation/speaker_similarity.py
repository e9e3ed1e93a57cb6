"""Speaker similarity: cosine of resemblyzer d-vectors (256-d), the offline speaker encoder.

The encoder is loaded once per process (``espnet_ext.speaker.build_embedder`` caches it) and
runs on CPU unless told otherwise.
"""
import numpy as np

from espnet_ext.speaker import build_embedder


def speaker_embedding(wav, fs: int, device: str = "cpu") -> np.ndarray:
    """Waveform (S,) at ``fs`` Hz -> unit-norm d-vector (256,) float32."""
    return build_embedder("dvector", device=device)(np.asarray(wav, dtype=np.float32), fs)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def speaker_similarity(wav_a, wav_b, fs: int, device: str = "cpu") -> float:
    """Cosine similarity in [-1, 1] of the d-vectors of two waveforms at ``fs`` Hz."""
    return cosine_similarity(speaker_embedding(wav_a, fs, device), speaker_embedding(wav_b, fs, device))
