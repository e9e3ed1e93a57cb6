"""Helpers of the reliability tests: a tiny mixed-task data dir, a tiny STTATTS training command,
and running a function in a forked child that the test can SIGKILL.

A forked child inherits the already imported torch / ESPnet (importing them costs 10-20 s on the
shared CI cores), and SIGKILL on its process group is exactly what a crashed node or an OOM-killer
does: no Python cleanup, no ``finally``, no flush.
"""
import logging
import multiprocessing
import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import kaldiio
import numpy as np
import soundfile as sf
import torch
import yaml

from espnet_ext.bin.make_token_list import HEAD, TAIL

LOG_FORMAT = "%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s"
TOKENS = [*HEAD, *"▁abcdefghijklmnopqrstuvwxyz'", *TAIL]
SPK_DIM = 8
TINY = dict(
    d_model=16, encoder_layers=1, decoder_layers=1, attention_heads=2, ffn_dim=32, conv_dim=[8, 8, 8],
    conv_kernel=[10, 8, 8], conv_stride=[5, 8, 8], pos_conv_kernel=8, pos_conv_groups=2, max_relative_position=8,
    speech_decoder_prenet_units=8, spk_embed_dim=SPK_DIM, postnet_layers=1, postnet_units=8,
)
# (utt id, category, text, seconds); ids start with their speaker (s1, s2), as Kaldi wants
UTTS = [
    ("s1-a1", "asr", "hello world", 0.5),
    ("s1-a2", "asr", "good day", 0.4),
    ("s1-t1", "tts", "abc", 0.4),
    ("s1-v1", "vc", "xyz", 0.3),
    ("s2-a3", "asr", "quiet night", 0.45),
    ("s2-t2", "tts", "hi there", 0.35),
    ("s2-t3", "tts", "yes", 0.3),
    ("s2-v2", "vc", "no", 0.3),
]
DATA_NAMES = (
    ("wav.scp", "speech", "sound"),
    ("text", "text", "text"),
    ("utt2category", "category", "text"),
    ("spk_embed.scp", "spembs", "kaldi_ark"),
    ("tgt_wav.scp", "speech_tgt", "optional_sound"),
)


def write_data_dir(root: Path, utts=UTTS, seed: int = 0) -> Path:
    """Kaldi-style dir: wav.scp, text, utt2spk, utt2category, spk_embed.{ark,scp}, tgt_wav.scp (VC)."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = {name: [] for name in ("wav.scp", "text", "utt2spk", "utt2category", "tgt_wav.scp")}
    embeds = {}
    for uid, cat, text, sec in utts:
        wav = root / f"{uid}.wav"
        sf.write(wav, (0.1 * rng.standard_normal(int(16000 * sec))).astype(np.float32), 16000)
        lines["wav.scp"].append(f"{uid} {wav}")
        lines["text"].append(f"{uid} {text}")
        lines["utt2spk"].append(f"{uid} {uid.split('-')[0]}")
        lines["utt2category"].append(f"{uid} {cat}")
        embeds[uid] = rng.standard_normal(SPK_DIM).astype(np.float32)
        if cat == "vc":
            tgt = root / f"{uid}_tgt.wav"
            sf.write(tgt, (0.1 * rng.standard_normal(int(16000 * sec))).astype(np.float32), 16000)
            lines["tgt_wav.scp"].append(f"{uid} {tgt}")
    for name, rows in lines.items():
        (root / name).write_text("".join(r + "\n" for r in sorted(rows)))
    with kaldiio.WriteHelper(f"ark,scp:{root / 'spk_embed.ark'},{root / 'spk_embed.scp'}") as w:
        for uid in sorted(embeds):
            w[uid] = embeds[uid]
    return root


def write_token_list(path: Path, tokens=TOKENS) -> Path:
    path.write_text("".join(t + "\n" for t in tokens), encoding="utf-8")
    return path


def write_config(path: Path, **overrides) -> Path:
    conf = {"backbone_conf": TINY, "optim": "adam", "optim_conf": {"lr": 0.001}, "use_tensorboard": False,
            "use_matplotlib": False, "num_workers": 0, "best_model_criterion": [["valid", "loss", "min"]]}
    conf.update(overrides)
    path.write_text(yaml.safe_dump(conf))
    return path


def data_args(d: Path, prefix: str) -> list:
    args = []
    for fname, name, kind in DATA_NAMES:
        args += [f"--{prefix}_data_path_and_name_and_type", f"{d}/{fname},{name},{kind}"]
    return args


def train_cmd(data: Path, config: Path, token_list: Path, out: Path, max_epoch: int, *extra) -> list:
    """ESPnet training options of a tiny run: unsorted batches of 2 (shape file = wav.scp's keys)."""
    return [
        "--config", str(config), "--token_list", str(token_list), "--output_dir", str(out),
        *data_args(data, "train"), *data_args(data, "valid"),
        "--train_shape_file", f"{data}/wav.scp", "--valid_shape_file", f"{data}/wav.scp",
        "--batch_type", "unsorted", "--batch_size", "2", "--max_epoch", str(max_epoch), "--seed", "0",
        "--log_interval", "1", *extra,
    ]


def state_dicts_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@contextmanager
def log_to(path: Path):
    """Root logger at INFO into ``path`` while the block runs (what the recipe's train.log holds)."""
    root = logging.getLogger()
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level)


def epoch_results(log: Path, epoch: int, phase: str = "train") -> dict:
    """{stat: value} of ESPnet's "<epoch>epoch results: [train] ... [valid] ..." log line,
    without the timing stats (they differ between runs)."""
    line = next(x for x in log.read_text().splitlines() if f"{epoch}epoch results:" in x)
    part = line.split(f"[{phase}] ", 1)[1].split(", [", 1)[0]
    stats = dict(item.split("=", 1) for item in part.split(", ") if "=" in item)
    return {k: v for k, v in stats.items() if not k.endswith("time") and k != "time"}


# ------------------------------------------------------------------------------ killable children
class _PauseOn(logging.Filter):
    """Stop the logging thread (i.e. the job) forever at the first record containing ``text``,
    after touching ``marker``: the parent kills the job at exactly that point."""

    def __init__(self, text: str, marker: str):
        super().__init__()
        self.text, self.marker = text, marker

    def filter(self, record):
        if self.text in record.getMessage():
            for h in logging.getLogger().handlers:
                h.flush()
            Path(self.marker).touch()
            time.sleep(600)
        return True


def _child(target, args, log_file, pause_on, marker):
    os.setpgrp()  # own process group: the kill reaches the job's own workers too
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    if pause_on:
        handler.addFilter(_PauseOn(pause_on, marker))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    target(*args)


def start_killable(target, args, log_file: Path, pause_on: str = "") -> multiprocessing.Process:
    """Run ``target(*args)`` in a forked child logging to ``log_file``; with ``pause_on``, the child
    stops at the first log record containing that text and touches ``<log_file>.paused``."""
    marker = str(log_file) + ".paused"
    proc = multiprocessing.get_context("fork").Process(
        target=_child, args=(target, args, str(log_file), pause_on, marker)
    )
    proc.start()
    proc.marker = Path(marker)
    return proc


def kill_when(proc, condition=None, timeout: float = 120.0, poll: float = 0.01) -> None:
    """SIGKILL the child's process group once ``condition()`` holds (default: it paused)."""
    condition = condition or proc.marker.exists
    deadline = time.monotonic() + timeout
    while not condition():
        if not proc.is_alive():
            raise AssertionError(f"the child ended (exit code {proc.exitcode}) before the kill point")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("the kill point was not reached in time")
        time.sleep(poll)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.join()
    assert proc.exitcode == -signal.SIGKILL
