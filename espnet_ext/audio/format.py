"""Stage 2 core: read one utterance's audio, convert it to mono at the target rate, check it.

Audio at another rate or with several channels is converted and kept; only audio that cannot be
used (missing, unreadable, empty, too short, too long) or an empty transcript drops an utterance,
and the reason is returned so the caller can report it.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import soundfile as sf
import soxr


@dataclass
class FormatResult:
    utt_id: str
    num_samples: int = 0
    reason: Optional[str] = None  # why the utterance was dropped; None when kept
    note: Optional[str] = None  # what was converted (rate, channels), for the log


def load_mono(path, target_fs: int):
    """Audio file -> (float32 mono waveform at ``target_fs``, note on what was converted)."""
    wav, fs = sf.read(str(path), dtype="float32", always_2d=True)
    notes = []
    if wav.shape[1] > 1:
        notes.append(f"{wav.shape[1]} channels averaged to mono")
    wav = wav.mean(axis=1)
    if fs != target_fs:
        notes.append(f"resampled {fs} -> {target_fs} Hz")
        wav = soxr.resample(wav, fs, target_fs, quality="HQ").astype(np.float32)
    return wav, "; ".join(notes) or None


def format_utterance(
    utt_id: str, src, dst: Path, text: str, fs: int, min_sec: float, max_sec: float, check_text: bool = True
) -> FormatResult:
    """Write ``dst`` (16-bit PCM wav at ``fs``) from ``src`` unless the utterance must be dropped."""
    if check_text and not text.strip():
        return FormatResult(utt_id, reason="empty text")
    if not Path(src).is_file():
        return FormatResult(utt_id, reason=f"audio file missing: {src}")
    try:
        wav, note = load_mono(src, fs)
    except Exception as err:  # soundfile raises several types for corrupt/truncated files
        return FormatResult(utt_id, reason=f"unreadable audio {src}: {type(err).__name__}: {err}")
    if wav.size == 0:
        return FormatResult(utt_id, reason=f"empty audio: {src}")
    if not np.isfinite(wav).all():
        return FormatResult(utt_id, reason=f"non-finite samples in {src}")
    seconds = wav.size / fs
    if seconds < min_sec:
        return FormatResult(utt_id, wav.size, reason=f"too short: {seconds:.2f} s < {min_sec} s")
    if seconds > max_sec:
        return FormatResult(utt_id, wav.size, reason=f"too long: {seconds:.2f} s > {max_sec} s")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".tmp.wav")
    sf.write(str(tmp), np.clip(wav, -1.0, 1.0), fs, subtype="PCM_16")
    tmp.replace(dst)  # a later stage never reads a half-written file
    return FormatResult(utt_id, wav.size, note=note)
