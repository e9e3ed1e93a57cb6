"""Project-wide test setup: one torch thread per test process (the suite shares 2 cores)."""
import os
import shutil

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_configure(config):
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture(scope="session")
def espeak_ng():
    """Path of the espeak-ng binary (installed by tools/install_system.sh; a hard requirement)."""
    path = shutil.which("espeak-ng")
    assert path, "espeak-ng is not installed: run 'bash tools/install_system.sh'"
    return path


@pytest.fixture(scope="session")
def espeak_speech(espeak_ng, tmp_path_factory):
    """speak(text, voice="en-us", fs=16000) -> float32 mono waveform synthesized by espeak-ng."""
    import subprocess

    import numpy as np
    import soundfile as sf
    import soxr

    folder = tmp_path_factory.mktemp("espeak")
    counter = iter(range(10**6))

    def speak(text, voice="en-us", fs=16000):
        path = folder / f"{next(counter)}.wav"
        subprocess.run([espeak_ng, "-v", voice, "-w", str(path), text], check=True)
        wav, native_fs = sf.read(path, dtype="float32")
        return soxr.resample(wav, native_fs, fs).astype(np.float32) if native_fs != fs else wav

    return speak
