"""Determinism: the same seed gives the same data dirs and the same first-epoch loss.

(The same seed giving the same synthesized corpus is tests/corpora/test_synthesized_layouts.py.)
"""
import hashlib
import shutil

from reliability_tiny import epoch_results, log_to

from espnet_ext.bin import format_audio, prepare_data
from espnet_ext.bin.make_mini_corpus import main as make_mini_corpus
from espnet_ext.tasks.sttatts import STTATTSTask


def _tree(root) -> dict:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_prepare_data_and_format_audio_twice_give_byte_identical_data_dirs(tmp_path):
    corpus = tmp_path / "corpus"
    make_mini_corpus(["--layout", "libritts", "--out", str(corpus), "--num_speakers", "2", "--utts_per_speaker", "3",
                      "--eval_num_speakers", "1", "--eval_utts_per_speaker", "1", "--splits", "train-clean-100",
                      "--nj", "1", "--no_progress"])
    data, dump = tmp_path / "data" / "train", tmp_path / "dump" / "train"

    def stages_1_2():
        assert prepare_data.main(["--corpus", "libritts", "--root", str(corpus), "--split", "train-clean-100",
                                  "--normalize", "en", "--out", str(data)]) == 0
        assert format_audio.main(["--in", str(data), "--out", str(dump), "--nj", "2"]) == 0  # 24 -> 16 kHz
        return _tree(tmp_path / "data"), _tree(tmp_path / "dump")

    first = stages_1_2()
    shutil.rmtree(tmp_path / "data")
    shutil.rmtree(tmp_path / "dump")
    second = stages_1_2()
    assert first == second
    assert len([name for name in first[1] if name.endswith(".wav")]) == 6


def test_two_training_runs_with_the_same_seed_log_the_same_first_epoch_loss(tiny_run, tmp_path):
    with log_to(tmp_path / "same.log") as same:
        STTATTSTask.main(cmd=tiny_run.cmd(tmp_path / "same", max_epoch=1))
    with log_to(tmp_path / "other.log") as other:
        STTATTSTask.main(cmd=tiny_run.cmd(tmp_path / "other", "--seed", "1", max_epoch=1))
    reference = epoch_results(tiny_run.log, 1)
    assert {"loss", "asr_ce", "tts_l1", "vc_bce", "grad_norm"} <= set(reference)
    assert epoch_results(same, 1) == reference  # every printed train statistic of epoch 1
    assert epoch_results(same, 1, "valid") == epoch_results(tiny_run.log, 1, "valid")
    assert epoch_results(other, 1)["loss"] != reference["loss"]  # the seed matters: not vacuous
