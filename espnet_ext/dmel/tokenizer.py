"""dMel tokenizer: log10 mel-filterbanks discretized into 2^K intensity bins per channel.

Paper section 2.1 (eqs 1-5). The mel is ESPnet's ``LogMelFbank`` with the published package's
settings (16 kHz, n_fft 1024, window 50 ms, hop 25 ms = 40 Hz or 12.5 ms = 80 Hz, Hann, center,
80 Slaney mels 80-7600 Hz, log10 of the magnitude, floor 1e-10): for the same bin table the tokens
equal those of the ``dmel`` package (PyPI), bos/eos frames aside.

Bin tables are (n_mels, 2^K) arrays of bin centres (one row per channel), stored as ``.npy`` files
in the layout the ``dmel`` package loads (``DiscretizedLogMelFbank(discretizer=path)``):

- ``uniform_bin_table``: the published one, 2^K centres from -7 to 2 (step rounded to 4 decimals,
  as published, so the tokens match for any K);
- ``bin_table_from_range``: the paper's eqs 2-3, ``C_j = m + j (M - m) / 2^K`` for j < 2^K, from
  the minimum m and maximum M of a data set's log-mels (global, or one (m, M) per channel).

Token ids: 0 .. 2^K - 1 are bins; then pad = 2^K, bos = 2^K + 1, eos = 2^K + 2 (as published).
"""
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import torch

PUBLISHED_MIN = -7.0  # log10 mel; the published uniform table's range
PUBLISHED_MAX = 2.0
SPECIALS = ("pad", "bos", "eos")  # ids 2^K, 2^K + 1, 2^K + 2


def uniform_bin_table(n_bits: int = 4, n_mels: int = 80, lo: float = PUBLISHED_MIN, hi: float = PUBLISHED_MAX) -> np.ndarray:
    """The published table: (n_mels, 2^K) float32, centres lo, lo + s, ... with s = round((hi - lo) / (2^K - 1), 4)."""
    step = np.round((hi - lo) / (2**n_bits - 1), 4)  # the published rounding, kept for token parity
    centres = np.array([lo + i * step for i in range(2**n_bits)])  # float64, then float32 as published
    return np.tile(centres, (n_mels, 1)).astype(np.float32)


def bin_table_from_range(m, M, n_bits: int = 4, n_mels: int = 80) -> np.ndarray:
    """Paper eqs 2-3: delta = (M - m) / 2^K, C = [m, m + delta, ..., m + (2^K - 1) delta].

    ``m`` and ``M`` are scalars (one codebook for every channel, as in the paper) or (n_mels,)
    arrays (one codebook per channel). Returns (n_mels, 2^K) float32.
    """
    m = np.broadcast_to(np.asarray(m, dtype=np.float64), (n_mels,))
    M = np.broadcast_to(np.asarray(M, dtype=np.float64), (n_mels,))
    if np.any(M <= m):
        raise ValueError(f"bin table range is empty: min {m.min()} >= max {M.max()}")
    delta = (M - m) / 2**n_bits
    return (m[:, None] + np.arange(2**n_bits)[None, :] * delta[:, None]).astype(np.float32)


def decision_thresholds(table: np.ndarray) -> np.ndarray:
    """(C, N) increasing float32 centres -> (C, N - 1) float32 thresholds: threshold j is the least
    float32 x at which |x - c_{j+1}| < |x - c_j| in float32 (below it the argmin over the centres,
    lower index winning ties, picks c_j or lower; from it on, c_{j+1} or higher).

    Found by bisection over the float32 values between c_j and c_{j+1} (ordered through their bit
    patterns): the float32 comparison is monotone in x there, but near 0 its switch can lie many
    representable values away from the rounded midpoint.
    """
    lo, hi = table[:, :-1].astype(np.float32), table[:, 1:].astype(np.float32)

    def key(x):  # float32 -> int64, order preserving
        bits = x.view(np.int32).astype(np.int64)
        return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)

    def value(k):  # inverse of key
        bits = np.where(k < 0, (-k) | 0x80000000, k).astype(np.uint32)
        return bits.view(np.float32)

    a, b = key(lo), key(hi)  # closer to c_{j+1}: false at c_j, true at c_{j+1}
    while np.any(b - a > 1):
        m = (a + b) // 2
        x = value(m)
        up = np.abs(x - hi) < np.abs(x - lo)
        open_ = b - a > 1
        b = np.where(open_ & up, m, b)
        a = np.where(open_ & ~up, m, a)
    return value(b)


def save_bin_table(path, table: np.ndarray) -> Path:
    """Write a (n_mels, 2^K) table as .npy (loadable by ``dmel.DiscretizedLogMelFbank(discretizer=...)``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:  # a file object, so numpy does not append ".npy" to other suffixes
        np.save(f, np.asarray(table, dtype=np.float32))
    return path


def load_bin_table(path) -> np.ndarray:
    """A (n_mels, n_bins) table of centres, each row strictly increasing."""
    table = np.load(path)
    if table.ndim != 2:
        raise ValueError(f"{path}: a bin table is (n_mels, n_bins), got shape {table.shape}")
    if not np.all(np.diff(table, axis=1) > 0):
        raise ValueError(f"{path}: bin centres must increase along each row")
    return table.astype(np.float32)


class MelRange:
    """Running minimum / maximum of log-mels over a data set (global and per channel), for eq 2."""

    def __init__(self, n_mels: int = 80):
        self.lo = np.full(n_mels, np.inf)
        self.hi = np.full(n_mels, -np.inf)

    def update(self, mel) -> None:
        """mel: (T, n_mels) log10 mel of one utterance (valid frames only)."""
        mel = np.asarray(mel, dtype=np.float64)
        if mel.size:
            self.lo = np.minimum(self.lo, mel.min(axis=0))
            self.hi = np.maximum(self.hi, mel.max(axis=0))

    def table(self, n_bits: int = 4, per_channel: bool = False) -> np.ndarray:
        if not np.all(np.isfinite(self.lo)):
            raise ValueError("no frames seen: cannot compute a bin table")
        if per_channel:
            return bin_table_from_range(self.lo, self.hi, n_bits, len(self.lo))
        return bin_table_from_range(self.lo.min(), self.hi.max(), n_bits, len(self.lo))


def reflect_pad(wav: torch.Tensor, lengths: torch.Tensor, pad: int) -> torch.Tensor:
    """(B, S) padded batch, lengths (B,) samples -> (B, S + 2 pad): each signal reflected `pad`
    samples at its start and at its OWN end (sample L + k is sample L - 2 - k), as
    ``torch.stft(center=True, pad_mode="reflect")`` pads one signal alone. Samples past L + pad are
    zeros (no frame within the length reaches them)."""
    B, S = wav.shape
    out = wav.new_zeros(B, S + 2 * pad)
    out[:, pad : pad + S] = wav
    out[:, :pad] = wav[:, 1 : pad + 1].flip(1)
    k = torch.arange(pad, device=wav.device)
    source = (lengths.to(wav.device)[:, None] - 2 - k[None, :]).clamp(min=0)  # (B, pad)
    target = (lengths.to(wav.device)[:, None] + pad + k[None, :]).clamp(max=S + 2 * pad - 1)
    out.scatter_(1, target, wav.gather(1, source))
    return out


class DMelTokenizer(torch.nn.Module):
    """Waveform <-> dMel tokens. Batched; moves with ``.to(device)``; no trainable parameters.

    Args:
        frame_rate_hz: 40 (hop 25 ms) or 80 (hop 12.5 ms); any rate dividing ``fs`` works.
        n_bits: K; 2^K bins per channel.
        bin_table: None for the published uniform table, or a path to a (n_mels, 2^K) ``.npy``.
        fs, n_fft, win_length, n_mels, fmin, fmax: mel settings (Hz / samples), published defaults.
    """

    def __init__(
        self,
        frame_rate_hz: int = 40,
        n_bits: int = 4,
        bin_table: Optional[str] = None,
        fs: int = 16000,
        n_fft: int = 1024,
        win_length: int = 800,
        n_mels: int = 80,
        fmin: int = 80,
        fmax: int = 7600,
    ):
        super().__init__()
        from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank

        if fs % frame_rate_hz:
            raise ValueError(f"frame rate {frame_rate_hz} Hz does not divide the sampling rate {fs} Hz")
        self.frame_rate_hz = frame_rate_hz
        self.n_bits = n_bits
        self.n_bins = 2**n_bits
        self.n_mels = n_mels
        self.pad_id, self.bos_id, self.eos_id = (self.n_bins + i for i in range(len(SPECIALS)))
        self.vocab_size = self.n_bins + len(SPECIALS)
        self.frontend = LogMelFbank(
            fs=fs, n_fft=n_fft, win_length=win_length, hop_length=fs // frame_rate_hz, window="hann",
            center=True, n_mels=n_mels, fmin=fmin, fmax=fmax, log_base=10.0,
        )
        table = uniform_bin_table(n_bits, n_mels) if bin_table is None else load_bin_table(bin_table)
        if table.shape != (n_mels, self.n_bins):
            raise ValueError(f"bin table {bin_table} has shape {table.shape}, expected {(n_mels, self.n_bins)}")
        # Persistent: a trained model's checkpoint carries the table it was trained with.
        self.register_buffer("bin_table", torch.from_numpy(table))

    @property
    def fs(self) -> int:
        return self.frontend.fs

    @property
    def hop_length(self) -> int:
        return self.frontend.hop_length

    @property
    def win_length(self) -> int:
        return self.frontend.win_length

    def mel_settings(self) -> dict:
        """Keyword arguments for ``espnet_ext.vocoder.load_vocoder`` (a vocoder for these mels)."""
        f = self.frontend
        return dict(fs=f.fs, n_fft=f.n_fft, hop_length=f.hop_length, win_length=f.win_length,
                    n_mels=f.n_mels, fmin=f.fmin, fmax=f.fmax)

    @torch.no_grad()
    def log_mel(
        self, wav: torch.Tensor, lengths: Optional[torch.Tensor] = None, chunk_bytes: int = 8 << 20
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """wav (B, S) float at ``fs`` -> log10 mel (B, T, n_mels), frames (B,) with T = S // hop + 1.

        Each utterance's frames are the values of ESPnet's ``LogMelFbank`` on that utterance alone
        (frames past a length are 0.0): the centred STFT reflects every signal at its own end
        (``reflect_pad``), where a padded batch through ``LogMelFbank`` (or the ``dmel`` package)
        would let the last n_fft / 2 samples of a shorter utterance's final frames be the batch's
        zero padding, so its tokens would depend on what else is in the batch. Computed with the
        same operations on groups of utterances whose complex spectrum fits in `chunk_bytes`: a
        group's spectrum stays in the CPU cache through magnitude, mel projection and log, where
        the whole batch's (B x 513 x T complex) would go through main memory at each of those steps.
        """
        f = self.frontend
        wav = wav.float()
        if lengths is None:
            lengths = torch.full((wav.shape[0],), wav.shape[1], dtype=torch.long, device=wav.device)
        window = torch.hann_window(f.win_length, dtype=wav.dtype, device=wav.device)
        melmat = f.logmel.melmat
        n_frames = torch.div(lengths + 2 * (f.n_fft // 2) - f.n_fft, f.hop_length, rounding_mode="floor") + 1
        total = wav.shape[1] // f.hop_length + 1
        out = wav.new_empty(wav.shape[0], total, melmat.shape[1])
        group = max(1, chunk_bytes // (total * (f.n_fft // 2 + 1) * 8))
        frame_ids = torch.arange(total, device=wav.device)
        for start in range(0, wav.shape[0], group):
            end = min(start + group, wav.shape[0])
            padded = reflect_pad(wav[start:end], lengths[start:end], f.n_fft // 2)
            spec = torch.stft(padded, n_fft=f.n_fft, hop_length=f.hop_length, win_length=f.win_length,
                              window=window, center=False, return_complex=True)  # (G, F, T)
            spec = torch.view_as_real(spec).transpose(1, 2)  # (G, T, F, 2), as ESPnet's Stft
            power = spec[..., 0] ** 2
            amp = power.add_(spec[..., 1] ** 2).clamp_(min=1.0e-10).sqrt_()  # in place: no new pages
            mel = torch.clamp(torch.matmul(amp, melmat), min=1e-10).log10_()
            # frames past a length: ESPnet zeroes their spectrum, then their log-mel; only the latter shows
            pad = frame_ids[None, :] >= n_frames[start:end, None]  # (G, T)
            out[start:end] = mel.masked_fill_(pad[:, :, None], 0.0)
        return out, n_frames

    @torch.no_grad()
    def discretize(self, mel: torch.Tensor) -> torch.Tensor:
        """Eq 4: log mel (..., n_mels) -> nearest bin index (..., n_mels) long.

        Values are clipped to the table's range first (so +inf lands in the top bin); distances are
        taken in float32 with the first centre winning ties, exactly as the published package
        (an argmin over all 2^K centres). Computed as one binary search among the float32 values
        where that argmin moves from one bin to the next (``decision_thresholds``).
        """
        thresholds, shared = self._decision_thresholds()
        table = self.bin_table
        if shared:  # one row for every channel (the published table): search the values as they lie
            x = mel.float().clamp(float(table[0, 0]), float(table[0, -1])).contiguous()
            return torch.bucketize(x, thresholds[0], right=True)
        flat = mel.reshape(-1, self.n_mels).float()
        x = torch.maximum(torch.minimum(flat, table[:, -1]), table[:, 0]).t().contiguous()  # (C, F)
        return torch.searchsorted(thresholds, x, right=True).t().reshape(mel.shape)

    def _apply(self, fn, *args, **kwargs):
        self._thresholds = None  # dtype / device changes: recompute
        return super()._apply(fn, *args, **kwargs)

    def _decision_thresholds(self) -> Tuple[torch.Tensor, bool]:
        """Thresholds of the current bin table (rebuilt when the table changes, e.g. on loading a
        checkpoint) and whether every channel has the same row."""
        table = self.bin_table
        key = (table.data_ptr(), table._version)
        if getattr(self, "_thresholds", None) is None or self._thresholds[0] != key:
            thr = torch.from_numpy(decision_thresholds(table.cpu().numpy())).to(table.device)
            self._thresholds = (key, thr, bool((table == table[:1]).all()))
        return self._thresholds[1], self._thresholds[2]

    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        """Eq 5: tokens (..., n_mels) long -> log10 mel (..., n_mels). Special ids give the lowest centre."""
        ids = tokens.long().clamp(0, self.n_bins - 1)
        ids = torch.where(tokens.long() >= self.n_bins, torch.zeros_like(ids), ids)
        channel = torch.arange(self.n_mels, device=tokens.device).expand_as(ids)
        return self.bin_table[channel, ids]

    @torch.no_grad()
    def encode(
        self, wav: torch.Tensor, lengths: Optional[torch.Tensor] = None, add_bos_eos: bool = False
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """wav (B, S) float, lengths (B,) samples -> tokens (B, T, n_mels) long, lengths (B,) frames.

        Frames past a sequence's length are ``pad_id``. With ``add_bos_eos`` every sequence gets a
        bos frame in front and an eos frame after its last frame (lengths + 2), as published.
        """
        mel, n_frames = self.log_mel(wav, lengths)
        tokens = self.discretize(mel)
        return self.frame(tokens, n_frames) if add_bos_eos else (self.mask_padding(tokens, n_frames), n_frames)

    def mask_padding(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        t = torch.arange(tokens.shape[1], device=tokens.device)
        return tokens.masked_fill((t[None, :] >= lengths[:, None])[..., None], self.pad_id)

    def frame(self, tokens: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, T, C) tokens, lengths -> (B, T + 2, C) with bos first and eos after each sequence, lengths + 2."""
        B, T, C = tokens.shape
        out = tokens.new_full((B, T + 2, C), self.pad_id)
        out[:, 0] = self.bos_id
        t = torch.arange(T, device=tokens.device)
        valid = (t[None, :] < lengths[:, None])[..., None]
        out[:, 1:-1] = torch.where(valid, tokens, out[:, 1:-1])
        out[torch.arange(B, device=tokens.device), lengths + 1] = self.eos_id
        return out, lengths + 2
