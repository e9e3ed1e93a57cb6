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
