"""Fixtures of the STTATTS tests. The helpers live in sttatts_tiny.py; pytest runs with
--import-mode=importlib (pytest.ini), which does not put test folders on sys.path, so this folder
is added here for the test modules' ``from sttatts_tiny import ...``."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sttatts_tiny import build_tiny  # noqa: E402


@pytest.fixture
def tiny():
    return build_tiny()
