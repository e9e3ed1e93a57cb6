"""Figures for RESULTS.md (matplotlib, Agg backend: no display needed).

- ``plot_mels``: generated vs reference log10 mel, same colour scale.
- ``plot_attention``: a decoder cross-attention map (output frames x input positions).
- ``plot_stop_probability``: per-frame stop probability with the decision threshold.
- ``plot_training_curves``: per-epoch train / valid statistics read from an ESPnet exp dir's
  ``train.log`` (lines ``<N>epoch results: [train] loss=..., [valid] loss=...``).
Each function writes a PNG and returns its path.
"""
import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

_EPOCH_LINE = re.compile(r"(\d+)epoch results: (.*)$")
_SECTION = re.compile(r"\[(\w+)\] ")
_KEY_VALUE = re.compile(r"^\s*(\w+)=([-+0-9.eE]+|nan|inf)\s*$")
_ROTATED_LOG = re.compile(r"train\.(\d+)\.log")  # earlier runs of a resumed training (run_jobs)


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _as_array(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def plot_mels(generated, path, reference=None, fs: int = 16000, hop_length: int = 256, title: str = "") -> Path:
    """log10 mels (T, n_mels), generated above reference, time in seconds."""
    mels = [("generated", _as_array(generated))]
    if reference is not None:
        mels.append(("reference", _as_array(reference)))
    vmin = min(m.min() for _, m in mels)
    vmax = max(m.max() for _, m in mels)
    fig, axes = plt.subplots(len(mels), 1, figsize=(8, 2.6 * len(mels)), squeeze=False)
    for ax, (label, mel) in zip(axes[:, 0], mels):
        extent = (0, len(mel) * hop_length / fs, 0, mel.shape[1])
        im = ax.imshow(mel.T, origin="lower", aspect="auto", extent=extent, vmin=vmin, vmax=vmax, cmap="magma")
        ax.set_title(f"{title} {label}".strip())
        ax.set_ylabel("mel bin")
        fig.colorbar(im, ax=ax, label="log10")
    axes[-1, 0].set_xlabel("time (s)")
    return _save(fig, path)


def plot_attention(attention, path, title: str = "attention") -> Path:
    """(T_out, T_in) or (heads, T_out, T_in) weights; one panel per head (at most 8)."""
    att = _as_array(attention)
    att = att[None] if att.ndim == 2 else att[:8]
    fig, axes = plt.subplots(1, len(att), figsize=(4 * len(att), 3.5), squeeze=False)
    for h, (ax, a) in enumerate(zip(axes[0], att)):
        ax.imshow(a.T, origin="lower", aspect="auto", cmap="viridis", vmin=0.0)
        ax.set_title(title if len(att) == 1 else f"{title} head {h}")
        ax.set_xlabel("output frame")
        ax.set_ylabel("input position")
    return _save(fig, path)


def plot_stop_probability(probs, path, threshold: float = 0.5, title: str = "stop probability") -> Path:
    """Per output frame probability (T,) that synthesis stops, and the decision threshold."""
    p = _as_array(probs).reshape(-1)
    fig, ax = plt.subplots(figsize=(8, 2.5))
    ax.plot(np.arange(len(p)), p, label="p(stop)")
    ax.axhline(threshold, color="red", linestyle="--", label=f"threshold {threshold}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("output frame")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return _save(fig, path)


def _epoch_results(log: Path) -> Dict[int, Dict[str, Dict[str, float]]]:
    """{epoch: {section: {key: value}}} of one ESPnet log; an epoch logged twice takes its last line."""
    per_epoch: Dict[int, Dict[str, Dict[str, float]]] = {}
    for line in log.read_text(errors="replace").splitlines():
        m = _EPOCH_LINE.search(line)
        if not m:
            continue
        epoch, rest = int(m[1]), m[2]
        parts = _SECTION.split(rest)  # ["", name1, body1, name2, body2, ...]
        sections = {}
        for name, body in zip(parts[1::2], parts[2::2]):
            values = {}
            for item in body.split(","):
                kv = _KEY_VALUE.match(item)
                if kv:
                    values[kv[1]] = float(kv[2])
            sections[name] = values
        per_epoch[epoch] = sections
    return per_epoch


def read_training_stats(exp_dir) -> Dict[str, Dict[str, List[Tuple[int, float]]]]:
    """ESPnet ``train.log`` -> {"train": {"loss": [(epoch, value), ...]}, "valid": {...}, ...}.

    Non-numeric entries (durations such as ``time=10 seconds``) are skipped. A resumed training's
    earlier logs, which ``espnet_ext.bin.run_jobs`` rotated away (``train.1.log`` the newest,
    ``train.2.log`` ...), supply the epochs before the first one of the next newer log; a log that
    starts at epoch 1 (a training started afresh) hides everything older.
    """
    log = Path(exp_dir) / "train.log"
    if not log.is_file():
        raise FileNotFoundError(f"{log} not found (ESPnet writes it in the exp dir during training)")
    rotated = {int(m[1]): p for p in log.parent.glob("train.*.log") if (m := _ROTATED_LOG.fullmatch(p.name))}
    per_epoch = _epoch_results(log)
    for n in sorted(rotated):  # newest first
        first = min(per_epoch, default=None)  # None: the newer log has no finished epoch yet
        if first == 1:
            break
        per_epoch.update({e: v for e, v in _epoch_results(rotated[n]).items() if first is None or e < first})
    stats: Dict[str, Dict[str, List[Tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for epoch in sorted(per_epoch):
        for section, values in per_epoch[epoch].items():
            for key, value in values.items():
                stats[section][key].append((epoch, value))
    return {s: dict(v) for s, v in stats.items()}


def plot_training_curves(
    exp_dir, path, keys: Optional[Sequence[str]] = None, sections: Sequence[str] = ("train", "valid")
) -> Path:
    """One panel per statistic (default: every numeric key of the valid section), train vs valid."""
    stats = read_training_stats(exp_dir)
    if keys is None:  # every logged statistic with at least one number (not counters)
        valid = stats.get("valid", {})
        keys = [k for k, pts in valid.items() if k != "total_count" and not all(np.isnan(v) for _, v in pts)]
    keys = [k for k in keys if any(k in stats.get(s, {}) for s in sections)]
    if not keys:
        raise ValueError(f"no per-epoch statistics in {Path(exp_dir) / 'train.log'}")
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for section in sections:
            points = stats.get(section, {}).get(key)
            if points:
                epochs, values = zip(*points)
                ax.plot(epochs, values, marker="o", label=section)
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.legend()
    return _save(fig, path)
