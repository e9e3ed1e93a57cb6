"""Stages killed half-way (SIGKILL, no cleanup) leave no file that a later stage would take as
complete, and a rerun writes the complete, correct output: the same files as a run that was never
interrupted.

The kill lands at a chosen point: the job is stopped right after it has written part of a file (a
wav cut to half its size, an ark with some of its vectors, a decoding with some utterances) and is
SIGKILLed there by the test.
"""
import os
import time
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile as sf
from reliability_tiny import kill_when, start_killable

from espnet_ext.bin import extract_spk_embed, format_audio, merge_decode, sttatts_inference

TEXT_FILES = ("wav.scp", "text", "utt2spk", "spk2utt", "utt2category", "utt2num_samples", "dropped.txt")


def _stop(marker):
    Path(marker).touch()
    time.sleep(600)  # the test SIGKILLs the job here


def _corpus(root: Path, n: int = 12) -> Path:
    """A data dir of ``n`` 48 kHz utterances (format_audio resamples them), one speaker each two."""
    (root / "src").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = {"wav.scp": [], "text": [], "utt2spk": [], "utt2category": []}
    for i in range(n):
        utt = f"s{i // 2}-u{i:02d}"
        wav = root / "src" / f"{utt}.wav"
        sf.write(wav, (0.1 * rng.standard_normal(int(48000 * (0.3 + 0.02 * i)))).astype(np.float32), 48000)
        rows["wav.scp"].append(f"{utt} {wav}")
        rows["text"].append(f"{utt} words {i}")
        rows["utt2spk"].append(f"{utt} s{i // 2}")
        rows["utt2category"].append(f"{utt} tts")
    data = root / "data"
    data.mkdir()
    for name, lines in rows.items():
        (data / name).write_text("".join(x + "\n" for x in lines))
    return data


def _same_tree(a: Path, b: Path) -> None:
    """Same file names and bytes; paths of ``b`` inside text files read as those of ``a``."""
    names_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    names_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert names_a == names_b
    for name in names_a:
        got = (b / name).read_bytes()
        if name.suffix not in (".wav", ".ark"):
            got = got.replace(str(b).encode(), str(a).encode())
        assert got == (a / name).read_bytes(), name


# --------------------------------------------------------------------------------- stage 2
def _format_killed_mid_write(argv, marker, nth):
    """format_audio, whose ``nth`` wav write is cut to half its bytes before the job is killed."""
    real = sf.write
    calls = []

    def write(path, *args, **kwargs):
        real(path, *args, **kwargs)
        calls.append(path)
        if len(calls) == nth:
            os.truncate(path, os.path.getsize(path) // 2)
            _stop(marker)

    sf.write = write  # the job's own copy of soundfile (a forked child)
    format_audio.main(argv)


def test_format_audio_killed_mid_write_leaves_no_complete_looking_output_and_reruns_to_the_same(tmp_path):
    data = _corpus(tmp_path)
    clean, dump = tmp_path / "clean", tmp_path / "dump"
    assert format_audio.main(["--in", str(data), "--out", str(clean), "--nj", "1"]) == 0
    # An older complete dump at another rate is in place: the killed run must not leave its lists
    # (which name every wav) beside a mix of old and new audio.
    assert format_audio.main(["--in", str(data), "--out", str(dump), "--nj", "1", "--fs", "8000"]) == 0

    marker = tmp_path / "paused"
    argv = ["--in", str(data), "--out", str(dump), "--nj", "1"]
    proc = start_killable(_format_killed_mid_write, (argv, marker, 5), tmp_path / "format.log")
    kill_when(proc, marker.exists)
    assert not (dump / "wav.scp").exists()  # no index over half-converted audio
    for wav in (dump / "data").glob("*.wav"):
        if not wav.name.endswith(".tmp.wav"):  # every file under its final name is a whole file
            assert sf.info(wav).frames * 2 + 44 == wav.stat().st_size, wav
    assert len(list((dump / "data").glob("*.tmp.wav"))) == 1  # the one cut in half

    assert format_audio.main(argv) == 0
    _same_tree(clean, dump)


# --------------------------------------------------------------------------------- stage 3
class _FakeEmbedder:
    """Deterministic stand-in for resemblyzer (this test is about files, not d-vectors)."""

    def __call__(self, wav, fs):
        v = np.array([wav.mean(), wav.std(), np.abs(wav).max(), len(wav) / fs], dtype=np.float32)
        return v / np.linalg.norm(v)


def _embed_killed_mid_ark(argv, marker, nth):
    real = kaldiio.WriteHelper

    class StopAfter(real):
        written = 0

        def __call__(self, key, value):
            super().__call__(key, value)
            StopAfter.written += 1
            if StopAfter.written == nth:
                self.fark.flush()
                _stop(marker)

    kaldiio.WriteHelper = StopAfter
    extract_spk_embed.build_embedder = lambda *a, **k: _FakeEmbedder()
    extract_spk_embed.main(argv)


def test_extract_spk_embed_killed_mid_ark_leaves_no_scp_into_it_and_reruns_to_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(extract_spk_embed, "build_embedder", lambda *a, **k: _FakeEmbedder())
    data = _corpus(tmp_path)
    clean = tmp_path / "clean"
    assert format_audio.main(["--in", str(data), "--out", str(clean), "--nj", "1"]) == 0
    dump = tmp_path / "dump"
    assert format_audio.main(["--in", str(data), "--out", str(dump), "--nj", "1"]) == 0
    assert extract_spk_embed.main(["--data", str(clean)]) == 0
    assert extract_spk_embed.main(["--data", str(dump)]) == 0  # a complete older output is in place

    marker = tmp_path / "paused"
    argv = ["--data", str(dump), "--overwrite"]
    proc = start_killable(_embed_killed_mid_ark, (argv, marker, 4), tmp_path / "embed.log")
    kill_when(proc, marker.exists)
    # the ark is being rewritten: the old scp (offsets into the old ark) must be gone with it
    assert not (dump / "dvector.scp").exists()
    assert (dump / "dvector.ark").stat().st_size < (clean / "dvector.ark").stat().st_size

    assert extract_spk_embed.main(["--data", str(dump)]) == 0
    _same_tree(clean, dump)
    vectors = kaldiio.load_scp(str(dump / "dvector.scp"))
    assert len(vectors) == 12 and all(np.isfinite(vectors[k]).all() for k in vectors)


# --------------------------------------------------------------------------------- stage 6
def _decode_args(tiny_run, task: str, out: Path) -> list:
    d = tiny_run.data
    if task == "asr":
        data = [f"{d}/wav.scp,speech,sound"]
    else:
        data = [f"{d}/text,text,text", f"{d}/spk_embed.scp,spembs,kaldi_ark"]
    args = ["--task", task, "--train_config", str(tiny_run.out / "config.yaml"), "--model_file",
            str(tiny_run.out / "3epoch.pth"), "--output_dir", str(out), "--num_workers", "0"]
    for triple in data:
        args += ["--data_path_and_name_and_type", triple]
    if task == "asr":
        return args + ["--beam_size", "1", "--ctc_weight", "0"]
    return args + ["--maxlenratio", "2", "--use_prenet_dropout", "false"]


@pytest.mark.parametrize("task", ["asr", "tts"])
def test_inference_killed_mid_set_leaves_no_output_folder_and_reruns_to_the_same(tiny_run, tmp_path, task):
    clean = tmp_path / "decode_clean" / "output.1"
    assert sttatts_inference.main(_decode_args(tiny_run, task, clean)) == 0

    logdir = tmp_path / "decode" / "logdir"
    out = logdir / "output.1"
    proc = start_killable(sttatts_inference.main, (_decode_args(tiny_run, task, out),), tmp_path / "decode.log",
                          pause_on="s1-t1: ")  # stopped after the 3rd of the 8 utterances
    kill_when(proc)
    assert not out.exists()
    assert [p.name for p in logdir.iterdir()] == [".output.1.partial"]  # hidden from the output.* glob

    assert sttatts_inference.main(_decode_args(tiny_run, task, out)) == 0
    _same_tree(clean, out)
    assert not (logdir / ".output.1.partial").exists()
    assert merge_decode.main(["--out", str(tmp_path / "decode" / "merged"), *map(str, logdir.glob("output.*"))]) == 0
    name = "1best_recog/text" if task == "asr" else "wav.scp"
    assert len((tmp_path / "decode" / "merged" / name).read_text().splitlines()) == 8
