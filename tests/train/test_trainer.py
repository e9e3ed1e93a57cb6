"""AmpTrainer: which autocast and scaler ESPnet's training loop gets, per device and --use_amp."""
from types import SimpleNamespace

import espnet2.train.trainer as espnet_trainer
import pytest
import torch
from espnet2.train.trainer import Trainer

from espnet_ext.train.trainer import AmpTrainer, cpu_amp

ESPNET_NAMES = (espnet_trainer.autocast, espnet_trainer.GradScaler)


def names_seen_by_the_loop(monkeypatch, ngpu: int, use_amp: bool):
    """Run AmpTrainer.run with ESPnet's Trainer.run replaced by a probe of the loop's module names."""
    seen = {}

    def probe(cls, *args):
        seen["names"] = (espnet_trainer.autocast, espnet_trainer.GradScaler)
        with espnet_trainer.autocast(True, **espnet_trainer.autocast_args):
            seen["dtype"] = torch.nn.functional.linear(torch.ones(2, 2), torch.ones(2, 2)).dtype
        seen["scaler"] = espnet_trainer.GradScaler()

    monkeypatch.setattr(Trainer, "run", classmethod(probe))
    AmpTrainer.run(*[None] * 6, SimpleNamespace(ngpu=ngpu, use_amp=use_amp), None)
    assert (espnet_trainer.autocast, espnet_trainer.GradScaler) == ESPNET_NAMES  # restored after the run
    return seen


def test_cpu_with_use_amp_autocasts_to_bf16_without_loss_scaling(monkeypatch):
    seen = names_seen_by_the_loop(monkeypatch, ngpu=0, use_amp=True)
    assert seen["dtype"] == torch.bfloat16
    scaler = seen["scaler"]
    assert isinstance(scaler, torch.cuda.amp.GradScaler) and not scaler.is_enabled()
    loss = torch.tensor(3.0)
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0


@pytest.mark.parametrize("ngpu, use_amp", [(1, True), (1, False), (0, False)])
def test_gpu_or_no_amp_leaves_espnets_loop_as_it_is(monkeypatch, ngpu, use_amp):
    seen = names_seen_by_the_loop(monkeypatch, ngpu=ngpu, use_amp=use_amp)
    assert seen["names"] == ESPNET_NAMES
    assert seen["dtype"] == torch.float32  # torch.cuda.amp.autocast does nothing to a CPU matmul


def test_names_are_restored_when_the_run_fails():
    with pytest.raises(RuntimeError):
        with cpu_amp():
            assert espnet_trainer.autocast is not ESPNET_NAMES[0]
            raise RuntimeError("training failed")
    assert (espnet_trainer.autocast, espnet_trainer.GradScaler) == ESPNET_NAMES
