"""Fixtures of the reliability tests. The helpers live in reliability_tiny.py; pytest runs with
--import-mode=importlib (pytest.ini), which does not put test folders on sys.path, so this folder
is added here for the test modules' ``from reliability_tiny import ...``."""
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reliability_tiny import log_to, train_cmd, write_config, write_data_dir, write_token_list  # noqa: E402

MAX_EPOCH = 3


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """An uninterrupted tiny STTATTS training run (seed 0, 3 epochs of 4 batches), with its log."""
    from espnet_ext.tasks.sttatts import STTATTSTask

    root = tmp_path_factory.mktemp("tiny_run")
    run = SimpleNamespace(
        root=root,
        data=write_data_dir(root / "data"),
        tokens=write_token_list(root / "tokens.txt"),
        config=write_config(root / "train.yaml"),
        out=root / "exp",
        log=root / "train.log",
        max_epoch=MAX_EPOCH,
    )
    run.cmd = lambda out, *extra, max_epoch=MAX_EPOCH: train_cmd(
        run.data, run.config, run.tokens, out, max_epoch, *extra
    )
    with log_to(run.log):
        STTATTSTask.main(cmd=run.cmd(run.out))
    return run
