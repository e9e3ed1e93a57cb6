"""Stages 1-2 of a recipe on a corpus with bad transcript lines, through the stage script: the
stage script's --max_bad_fraction reaches prepare_data, good utterances reach dump/raw/<set>,
empty transcripts are dropped by stage 2 into dropped.txt, unreadable lines are named in the log.
(Each corpus layout and fault in turn: tests/corpora/test_bad_lines.py.)
"""
import os
import subprocess

import numpy as np
import soundfile as sf

from espnet_ext.corpora.data_dir import read_kv
from espnet_ext.corpora.utterance import MAX_BAD_FRACTION

TRAIN_LINES = [
    b'"ARA NORM  0001.wav" "ktAbN jamiylN"',
    b'"ARA NORM  0002.wav" "bayotN"',
    b'"ARA NORM  0003.wav" "^alA^apu >ayAm"',
    b'"ARA NORM  0004.wav"',  # no transcript: kept by stage 1, dropped by stage 2
    b"ARA NORM  0005.wav, ktAbN",  # unparseable
    b'"ARA NORM  0006.wav" "Caf\xe9"',  # not UTF-8
    b'"ARA NORM  0007.wav" "jamiylN"',  # the last one: the dev set (--dev_utts 1)
]


def _asc(root) -> None:
    """The Arabic Speech Corpus layout: 7 training lines (2 unreadable, 1 without text), 2 test lines."""
    top = root / "arabic-speech-corpus"
    for folder, lines in ((top, TRAIN_LINES), (top / "test set", TRAIN_LINES[:2])):
        (folder / "wav").mkdir(parents=True)
        (folder / "orthographic-transcript.txt").write_bytes(b"\n".join(lines) + b"\n")
        for i in range(1, len(lines) + 1):
            sf.write(folder / "wav" / f"ARA NORM  000{i}.wav", np.full(9600, 0.1, dtype=np.float32), 48000)


def test_stage_script_passes_max_bad_fraction_and_stage_2_drops_empty_text(tmp_path, recipe_tools):
    recipe = recipe_tools.link("arabic_asc/sttatts1", tmp_path / "ar")
    _asc(recipe / "corpora")
    transcript = "corpora/arabic-speech-corpus/orthographic-transcript.txt"
    stages = ["--stage", "1", "--stop_stage", "2", "--local_data_opts", "--dev_utts 1"]

    # 2 of 7 lines are unreadable: past the default, stage 1 stops and names the file
    with open(recipe / "fail.log", "w") as log:
        proc = subprocess.run(["./run.sh", *stages], cwd=recipe, env={**os.environ, "ASC": "corpora"},
                              stdout=log, stderr=subprocess.STDOUT)
    log = (recipe / "fail.log").read_text()
    assert proc.returncode != 0
    assert f"2 of 7 transcript lines unreadable (28.6 %), more than --max_bad_fraction {MAX_BAD_FRACTION}" in log
    assert f"{transcript} (2 lines)" in log and not (recipe / "dump").exists()

    recipe_tools.run(recipe, *stages, "--max_bad_fraction", "0.5", env={"ASC": "corpora"})
    log = (recipe / "run.log").read_text()
    assert "local/data.sh --max_bad_fraction 0.5 --dev_utts 1" in log  # stage 1's logged command line
    assert f"{transcript}:5: expected" in log and f"{transcript}:6: not UTF-8" in log
    for category in ("asr", "tts"):
        assert read_kv(recipe / f"data/train_{category}/text")[f"asc_train_ARA_NORM_0004_{category}"] == ""
    dump = recipe / "dump/raw"
    train = [f"asc_train_ARA_NORM_000{i}_{c}" for i in (1, 2, 3) for c in ("asr", "tts")]
    assert sorted(read_kv(dump / "train/wav.scp")) == sorted(train)
    assert read_kv(dump / "train/dropped.txt") == {f"asc_train_ARA_NORM_0004_{c}": "empty text" for c in ("asr", "tts")}
    assert sorted(read_kv(dump / "dev/wav.scp")) == ["asc_train_ARA_NORM_0007_asr", "asc_train_ARA_NORM_0007_tts"]
    assert sorted(read_kv(dump / "test_asr/wav.scp")) == ["asc_test_ARA_NORM_0001_asr", "asc_test_ARA_NORM_0002_asr"]
