"""Figures for RESULTS.md, and training statistics read back from an ESPnet train.log."""
import numpy as np
import pytest
from matplotlib.image import imread

from espnet_ext.evaluation.plots import (
    plot_attention,
    plot_mels,
    plot_stop_probability,
    plot_training_curves,
    read_training_stats,
)


def _check_png(path, min_width=300):
    image = imread(path)
    assert image.shape[1] >= min_width and image.shape[0] >= 100
    assert image[..., :3].std() > 0.05  # something was drawn


def test_mel_attention_and_stop_figures(tmp_path):
    rng = np.random.default_rng(0)
    mel = rng.normal(-4, 1, (60, 80))
    _check_png(plot_mels(mel, tmp_path / "mel.png", reference=mel[::-1], title="utt1"))
    _check_png(plot_mels(mel, tmp_path / "mel_only.png"))
    att = np.eye(60, 30, dtype=np.float32)
    _check_png(plot_attention(att, tmp_path / "att.png"))
    _check_png(plot_attention(np.stack([att, att[::-1]]), tmp_path / "att_heads.png"), min_width=600)
    _check_png(plot_stop_probability(1 / (1 + np.exp(-(np.arange(60) - 50.0))), tmp_path / "stop.png"))


def _espnet_train_log(folder, epochs=3, resumed=True):
    """A train.log whose epoch lines come from ESPnet's own Reporter (the real format)."""
    from espnet2.train.reporter import Reporter

    reporter = Reporter()
    lines = []
    for epoch in range(1, epochs + 1):
        reporter.set_epoch(epoch)
        with reporter.observe("train") as sub:
            for step in range(2):
                sub.register({"loss": 10.0 / epoch + step, "acc": 0.1 * epoch})
                sub.next()
        with reporter.observe("valid") as sub:
            sub.register({"loss": 8.0 / epoch, "acc": 0.2 * epoch, "cer": None})
            sub.next()
        lines.append(f"[host] 2026-01-01 00:00:0{epoch},000 (trainer:338) INFO: {reporter.log_message()}")
    if resumed:  # a resumed run logs epoch 2 again; the last line wins
        lines.append(lines[1].replace("[valid] loss=4.000", "[valid] loss=3.500"))
    (folder / "train.log").write_text("\n".join(["unrelated line", *lines]) + "\n")


def test_training_stats_read_back_from_train_log(tmp_path):
    _espnet_train_log(tmp_path)
    stats = read_training_stats(tmp_path)
    assert stats["train"]["loss"] == [(1, 10.5), (2, 5.5), (3, pytest.approx(3.8333, abs=1e-3))]
    assert stats["valid"]["loss"] == [(1, 8.0), (2, 3.5), (3, pytest.approx(2.667, abs=1e-3))]
    assert stats["valid"]["acc"][-1] == (3, pytest.approx(0.6))
    assert "time" not in stats["train"]  # durations are not numbers


def test_training_stats_include_the_logs_a_resumed_run_rotated_away(tmp_path):
    _espnet_train_log(tmp_path, resumed=False)
    head, *epochs = (tmp_path / "train.log").read_text().splitlines()
    (tmp_path / "train.2.log").write_text(f"{head}\n{epochs[0]}\n")  # oldest run: epoch 1
    (tmp_path / "train.1.log").write_text(f"{epochs[1]}\n")  # epoch 2, then resumed again
    rerun = epochs[1].replace("[valid] loss=4.000", "[valid] loss=3.500")
    (tmp_path / "train.log").write_text(f"{rerun}\n{epochs[2]}\n")
    stats = read_training_stats(tmp_path)
    assert stats["valid"]["loss"] == [(1, 8.0), (2, 3.5), (3, pytest.approx(2.667, abs=1e-3))]


def test_training_stats_of_a_fresh_rerun_hide_the_older_runs_epochs(tmp_path):
    _espnet_train_log(tmp_path, resumed=False)  # an earlier run: epochs 1-3
    (tmp_path / "train.log").rename(tmp_path / "train.1.log")
    head, *epochs = (tmp_path / "train.1.log").read_text().splitlines()
    (tmp_path / "train.log").write_text(f"{epochs[0]}\n")  # trained again from epoch 1
    assert read_training_stats(tmp_path)["valid"]["loss"] == [(1, 8.0)]
    (tmp_path / "train.log").write_text(f"{head}\n")  # ... and still in its first epoch
    assert [e for e, _ in read_training_stats(tmp_path)["valid"]["loss"]] == [1, 2, 3]


def test_training_curves_figure(tmp_path):
    _espnet_train_log(tmp_path)
    _check_png(plot_training_curves(tmp_path, tmp_path / "curves.png"), min_width=600)  # loss + acc panels


def test_missing_train_log_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="train.log"):
        read_training_stats(tmp_path)
