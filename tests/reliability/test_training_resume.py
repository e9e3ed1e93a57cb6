"""Crash and resume: a training run killed with SIGKILL mid-epoch resumes from its last checkpoint
(ESPnet's --resume) and ends with the same model as a run that was never interrupted.

Bitwise, on CPU: ESPnet reseeds every RNG at the start of each epoch (seed + epoch), shuffles the
batch order with a RandomState(seed + epoch), and checkpoint.pth holds the model, the optimizer,
the scheduler and the reporter, so epoch k of the resumed run repeats epoch k of the
uninterrupted one operation for operation (one thread: the same summation order).
"""
import shutil

import pytest
import torch
from reliability_tiny import kill_when, log_to, start_killable, state_dicts_equal

from espnet_ext.bin import sttatts_train
from espnet_ext.tasks.sttatts import STTATTSTask


def test_sigkill_mid_epoch_then_resume_ends_with_the_bitwise_same_model(tiny_run, tmp_path):
    out = tmp_path / "exp"
    log = tmp_path / "killed.log"
    # The child stops when the second update of epoch 2 is logged, and is SIGKILLed there.
    proc = start_killable(sttatts_train.main, (tiny_run.cmd(out),), log, pause_on="2epoch:train:2-2batch")
    kill_when(proc)
    checkpoint = torch.load(out / "checkpoint.pth", weights_only=False)
    assert checkpoint["reporter"]["epoch"] == 1  # the last complete epoch
    assert (out / "1epoch.pth").is_file() and not (out / "2epoch.pth").exists()
    assert "2epoch:train:1-1batch" in log.read_text()  # an update of epoch 2 died with the process

    with log_to(tmp_path / "resumed.log") as resumed_log:
        STTATTSTask.main(cmd=tiny_run.cmd(out, "--resume", "true"))
    assert f"The training was resumed using {out / 'checkpoint.pth'}" in resumed_log.read_text()
    assert "1/3epoch started" not in resumed_log.read_text()  # epoch 1 was not trained again

    reference = torch.load(tiny_run.out / f"{tiny_run.max_epoch}epoch.pth")
    resumed = torch.load(out / f"{tiny_run.max_epoch}epoch.pth")
    assert state_dicts_equal(resumed, reference)
    # not vacuous: epochs 2 and 3 changed the model, and the optimizer moments agree as well
    assert not state_dicts_equal(torch.load(out / "1epoch.pth"), resumed)
    ref_opt = torch.load(tiny_run.out / "checkpoint.pth", weights_only=False)["optimizers"][0]["state"]
    got_opt = torch.load(out / "checkpoint.pth", weights_only=False)["optimizers"][0]["state"]
    assert ref_opt.keys() == got_opt.keys()
    assert all(torch.equal(ref_opt[i]["exp_avg_sq"], got_opt[i]["exp_avg_sq"]) for i in ref_opt)


def test_a_truncated_checkpoint_is_refused_not_taken_as_complete(tiny_run, tmp_path):
    """ESPnet writes checkpoint.pth in place: a kill during that write leaves a truncated file.
    Resuming must then fail loudly instead of training on from a partial state."""
    out = tmp_path / "exp"
    shutil.copytree(tiny_run.out, out, symlinks=True)
    data = (out / "checkpoint.pth").read_bytes()
    (out / "checkpoint.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError, match="zip archive"):
        STTATTSTask.main(cmd=tiny_run.cmd(out, "--resume", "true", max_epoch=tiny_run.max_epoch + 1))
    assert not (out / f"{tiny_run.max_epoch + 1}epoch.pth").exists()
