"""Distributed training on CPU: ESPnet's DDP path (gloo) gives the loss and gradients of one
process on the same global batch, and the real entry point trains with 2 processes.

Both sides run ESPnet's own ``Trainer.train_one_epoch`` (its loss weighting: each rank's loss is
scaled by its weight / the global weight x world size, and DDP averages the gradients), so the
test covers what a multi-GPU run does, with gloo instead of NCCL.
"""
import logging
import multiprocessing
import socket
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml
from espnet2.train.distributed_utils import DistributedOption
from espnet2.train.reporter import Reporter
from espnet2.train.trainer import Trainer
from reliability_tiny import SPK_DIM, TINY

from espnet_ext.bin import sttatts_train
from espnet_ext.tasks.sttatts import STTATTSTask

WORLD = 2
# Every dropout off: the ranks and the single process must compute the same function.
NO_DROPOUT = dict(dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, positional_dropout=0.0,
                  feat_proj_dropout=0.0, speech_decoder_prenet_dropout=0.0, postnet_dropout=0.0)
# Two halves with the same tasks and the same lengths per task (padding, and the per-task means
# of the loss, are then the same in a half and in the whole batch); the contents differ.
HALVES = [
    [("asr", "hello world", 0.50, 0.0), ("tts", "abcd", 0.40, 0.0), ("vc", "xy", 0.30, 0.35)],
    [("asr", "quiet night", 0.50, 0.0), ("tts", "wxyz", 0.40, 0.0), ("vc", "no", 0.30, 0.35)],
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _args(tmp: Path, tokens: Path):
    config = tmp / "ddp.yaml"
    config.write_text(yaml.safe_dump({"backbone_conf": {**TINY, **NO_DROPOUT}, "ctc_conf": {"dropout_rate": 0.0}}))
    return STTATTSTask.get_parser().parse_args(
        ["--config", str(config), "--token_list", str(tokens), "--output_dir", str(tmp), "--grad_clip", "1e9"]
    )


def _items(args, utts, first_seed):
    """Preprocessed utterances (signals seeded by their position), as ESPnet's dataset gives them."""
    pre = STTATTSTask.build_preprocess_fn(args, train=True)
    items = []
    for seed, (cat, text, sec, tgt_sec) in enumerate(utts, first_seed):
        rng = np.random.default_rng(seed)
        d = {"speech": (0.1 * rng.standard_normal(int(16000 * sec))).astype(np.float32), "text": text,
             "category": cat, "spembs": rng.standard_normal(SPK_DIM).astype(np.float32)}
        if tgt_sec:
            d["speech_tgt"] = (0.1 * rng.standard_normal(int(16000 * tgt_sec))).astype(np.float32)
        items.append((f"u{seed}", pre(f"u{seed}", d)))
    return items


def _per_sample_batch_norm(model):
    """The speech postnet's BatchNorm normalises with batch statistics in training, and ESPnet's
    DDP keeps them per process (no SyncBatchNorm; PyTorch's is GPU-only): a half-batch then sees
    other statistics than the whole batch. Normalising with the running statistics makes every
    layer per-sample, so the split can be compared exactly."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.forward = lambda x, m=m: F.batch_norm(
                x, m.running_mean, m.running_var, m.weight, m.bias, training=False, eps=m.eps
            )


class GradRecorder(torch.optim.Optimizer):
    """An optimizer whose step keeps a copy of the gradients (the Trainer zeroes them after)."""

    def __init__(self, params):
        super().__init__(params, {})
        self.grads = {}

    def step(self, closure=None):
        self.grads = {i: p.grad.clone() for i, p in enumerate(self.param_groups[0]["params"]) if p.grad is not None}


def _one_step(args, state, batch, distributed: bool):
    """ESPnet's train_one_epoch over one batch -> (gradients, reported loss)."""
    model = STTATTSTask.build_model(args)
    model.load_state_dict(state)
    _per_sample_batch_norm(model)
    optim = GradRecorder(model.parameters())
    net = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True) if distributed else model
    reporter = Reporter()
    reporter.set_epoch(1)
    with reporter.observe("train") as sub:
        Trainer.train_one_epoch(
            model=net, iterator=[batch], optimizers=[optim], schedulers=[None], scaler=None, reporter=sub,
            summary_writer=None, options=Trainer.build_options(args),
            distributed_option=DistributedOption(distributed=distributed, dist_backend="gloo", ngpu=0),
        )
    return optim.grads, reporter.get_value("train", "loss")


def _rank(rank, port, args, state, batch, result_file):
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        grads, loss = _one_step(args, state, batch, distributed=True)
        torch.save({"grads": grads, "loss": loss}, result_file)
    finally:
        torch.distributed.destroy_process_group()


def test_two_gloo_processes_give_the_loss_and_gradients_of_one_process_on_the_global_batch(tiny_run, tmp_path):
    args = _args(tmp_path, tiny_run.tokens)
    torch.manual_seed(0)
    state = STTATTSTask.build_model(args).state_dict()
    collate = STTATTSTask.build_collate_fn(args, True)
    items = [_items(args, utts, first_seed=10 * r) for r, utts in enumerate(HALVES)]
    halves = [collate(part) for part in items]
    whole = collate(items[0] + items[1])

    port = _free_port()
    ctx = multiprocessing.get_context("fork")  # children inherit the imports (no 15 s start-up)
    procs = [
        ctx.Process(target=_rank, args=(r, port, args, state, halves[r], tmp_path / f"rank{r}.pt")) for r in range(WORLD)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]
    grads, loss = _one_step(args, state, whole, distributed=False)

    assert ranks[0]["loss"] == pytest.approx(loss, rel=1e-6) and ranks[1]["loss"] == pytest.approx(loss, rel=1e-6)
    assert ranks[0]["grads"].keys() == ranks[1]["grads"].keys() == grads.keys()
    for i, g in grads.items():
        assert torch.equal(ranks[0]["grads"][i], ranks[1]["grads"][i])  # DDP's all-reduce: one gradient
        # float32 sums in another order (measured: at most 3e-6 on gradients up to 1.6; the k_proj
        # biases, whose true gradient is 0 (softmax ignores a shift), hold ~1e-8 of noise)
        torch.testing.assert_close(ranks[0]["grads"][i], g, rtol=1e-4, atol=1e-5)
    # every task trained something: the text and speech sides both have gradients
    names = [n for n, _ in STTATTSTask.build_model(args).named_parameters()]
    nonzero = {".".join(names[i].split(".")[:2]) for i, g in grads.items() if g.abs().sum() > 0}
    assert {"ctc.ctc_lo", "backbone.speech_encoder_prenet", "backbone.text_encoder_prenet",
            "backbone.speech_decoder_prenet", "backbone.speech_decoder_postnet", "task_fusion.proj"} <= nonzero


def _launch(cmd, log_file):
    """One process of a multi-process launch: the entry point's main with this rank's options."""
    for handler in list(logging.getLogger().handlers):  # pytest's: ESPnet configures its own
        logging.getLogger().removeHandler(handler)
    sys.stderr = open(log_file, "w", buffering=1)  # ESPnet logs to stderr, a line at a time
    sttatts_train.main(cmd)


def test_the_training_entry_point_trains_one_epoch_with_two_cpu_processes(tiny_run, tmp_path):
    """The entry point (``python -m espnet_ext.bin.sttatts_train`` runs this ``main``) started as
    ranks 0 and 1 of a gloo group, the way a launcher (torchrun, srun, the recipe's cmd.sh) starts
    one process per node. Forked, not exec'd: a fresh interpreter spends ~15 s importing ESPnet."""
    out = tmp_path / "exp"
    port = _free_port()
    ctx = multiprocessing.get_context("fork")
    procs = []
    for rank in range(WORLD):
        cmd = [*tiny_run.cmd(out, max_epoch=1), "--ngpu", "0", "--multiprocessing_distributed", "false",
               "--dist_backend", "gloo", "--dist_world_size", str(WORLD), "--dist_rank", str(rank),
               "--dist_master_addr", "127.0.0.1", "--dist_master_port", str(port)]
        procs.append(ctx.Process(target=_launch, args=(cmd, str(tmp_path / f"rank{rank}.log"))))
        procs[-1].start()
    for rank, proc in enumerate(procs):
        proc.join(timeout=300)
        assert proc.exitcode == 0, (tmp_path / f"rank{rank}.log").read_text()[-3000:]
    rank0 = (tmp_path / "rank0.log").read_text()
    assert ":0/2] " in rank0 and "The training was finished at 1 epochs" in rank0  # rank 0 of 2 logs
    assert "INFO" not in (tmp_path / "rank1.log").read_text()  # the others only log errors
    # ESPnet shards every batch of 2 over the ranks: 4 steps of 1 utterance each per rank
    assert "mini-batch sizes summary: N-batch=4, mean=2.0" in rank0
    checkpoint = torch.load(out / "checkpoint.pth", weights_only=False)  # written by rank 0 only
    assert checkpoint["reporter"]["epoch"] == 1
    assert np.isfinite(checkpoint["reporter"]["stats"][1]["train"]["loss"])
    state = torch.load(out / "1epoch.pth")
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_ddp_looks_for_unused_parameters_by_default_and_a_config_can_say_otherwise(tmp_path):
    """A one-task batch leaves the other tasks' nets without gradients; without this default the
    run above stops at its second step ("Expected to have finished reduction ...")."""
    parser = STTATTSTask.get_parser()
    assert parser.parse_args(["--token_list", "t"]).unused_parameters is True
    config = tmp_path / "c.yaml"
    config.write_text("unused_parameters: false\n")
    assert parser.parse_args(["--config", str(config), "--token_list", "t"]).unused_parameters is False
