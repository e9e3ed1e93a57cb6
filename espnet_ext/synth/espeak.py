"""Speaking one utterance with espeak-ng: text -> float32 waveform at the requested rate."""
import shutil
import struct
import subprocess

import numpy as np
import soxr

from espnet_ext.synth.voices import Speaker

ESPEAK_RATE = 22050  # Hz: espeak-ng's native output rate


class EspeakError(RuntimeError):
    """espeak-ng is missing or failed."""


def espeak_binary() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise EspeakError(
            "espeak-ng not found on PATH: the corpus synthesizer speaks with it. Install it with "
            "`sudo apt-get install espeak-ng` (tools/install.sh does this)."
        )
    return path


def _parse_wav(data: bytes) -> tuple:
    """espeak-ng's --stdout WAV (its size fields are left at 0x7fffffff) -> (int16 samples, rate)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise EspeakError("espeak-ng did not return a WAV stream")
    pos, rate, samples = 12, None, None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[pos + 8 : pos + 24])
            if channels != 1 or bits != 16:
                raise EspeakError(f"unexpected espeak-ng output: {channels} channels, {bits} bits")
        elif chunk == b"data":
            body = data[pos + 8 :]
            samples = np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2")
            break
        pos += 8 + size + (size & 1)
    if rate is None or samples is None:
        raise EspeakError("espeak-ng WAV stream has no fmt or data chunk")
    return samples, rate


def synthesize(text: str, speaker: Speaker, sample_rate: int = ESPEAK_RATE) -> np.ndarray:
    """Speak ``text`` with ``speaker``; returns a float32 waveform (T,) in [-1, 1] at ``sample_rate`` Hz."""
    # Text goes through stdin so a sentence starting with '-' is never read as an option.
    cmd = [espeak_binary(), *speaker.espeak_args, "-b", "1", "--stdout"]
    proc = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, check=False)
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace")
        raise EspeakError(f"espeak-ng failed ({proc.returncode}) for {speaker.voice}: {stderr}")
    samples, rate = _parse_wav(proc.stdout)
    if samples.size == 0:
        raise EspeakError(f"espeak-ng produced no audio for {text!r} with {speaker.voice}")
    audio = samples.astype(np.float32) / 32768.0
    if rate != sample_rate:
        audio = soxr.resample(audio, rate, sample_rate, quality="HQ").astype(np.float32)
    return np.clip(audio, -1.0, 1.0)
