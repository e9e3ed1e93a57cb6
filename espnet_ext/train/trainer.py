"""ESPnet's Trainer, with ``--use_amp true`` meaning bf16 autocast when training on CPU.

ESPnet 202511's Trainer implements ``--use_amp`` with ``torch.cuda.amp.autocast`` + ``GradScaler``,
which do nothing on CPU. ``AmpTrainer`` runs ESPnet's own training loop unchanged; only when the run
is on CPU (``--ngpu 0``) with ``--use_amp true`` does it swap, for the duration of the run, the two
names that loop looks up in ``espnet2.train.trainer``:

- ``autocast`` -> ``torch.autocast("cpu", dtype=torch.bfloat16)`` around every forward (training
  and validation). Parameters, gradients and optimizer states stay fp32 (master weights); matmuls
  and convolutions run in bf16; autocast's CPU policy keeps the losses (CE, CTC, L1, BCE) in fp32,
  and the models compute their other numerically sensitive parts in fp32 themselves.
- ``GradScaler`` -> a disabled scaler: bf16 has fp32's exponent range, so no loss scaling is needed;
  a disabled scaler passes the loss, the unscale and the optimizer step through unchanged.

On GPU (``--ngpu`` > 0), and with ``--use_amp false``, nothing is swapped: ESPnet's behaviour as is.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

import espnet2.train.trainer as espnet_trainer
import torch
from espnet2.train.trainer import Trainer

CPU_AMP_DTYPE = torch.bfloat16  # the CPU's lower precision: fp32's exponent range, so no scaler
ESPNET_GRAD_SCALER = espnet_trainer.GradScaler  # torch.cuda.amp.GradScaler, as ESPnet's loop type-checks


def cpu_autocast(enabled: bool = True, **_cuda_args) -> torch.autocast:
    """What ESPnet's loop calls as ``autocast(enabled, **autocast_args)``, on CPU: bf16 autocast."""
    return torch.autocast("cpu", dtype=CPU_AMP_DTYPE, enabled=enabled)


def disabled_grad_scaler(*_args, **_kwargs) -> torch.cuda.amp.GradScaler:
    """A scaler that scales nothing, of the class ESPnet's loop type-checks for."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.cuda.amp.GradScaler's deprecation
        return ESPNET_GRAD_SCALER(enabled=False)


@contextlib.contextmanager
def cpu_amp() -> Iterator[None]:
    """Within: ESPnet's training loop autocasts to bf16 on CPU without loss scaling."""
    saved = espnet_trainer.autocast, espnet_trainer.GradScaler
    espnet_trainer.autocast, espnet_trainer.GradScaler = cpu_autocast, disabled_grad_scaler
    try:
        yield
    finally:
        espnet_trainer.autocast, espnet_trainer.GradScaler = saved


class AmpTrainer(Trainer):
    """ESPnet's Trainer; ``--use_amp true`` with ``--ngpu 0`` trains under bf16 autocast (see above)."""

    @classmethod
    def run(cls, model, optimizers, schedulers, train_iter_factory, valid_iter_factory,
            plot_attention_iter_factory, trainer_options, distributed_option) -> None:
        on_cpu_amp = trainer_options.use_amp and trainer_options.ngpu == 0
        with cpu_amp() if on_cpu_amp else contextlib.nullcontext():
            super().run(model, optimizers, schedulers, train_iter_factory, valid_iter_factory,
                        plot_attention_iter_factory, trainer_options, distributed_option)
