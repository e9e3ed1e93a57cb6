"""Bad transcript lines in each of the five corpus layouts, through stage 1 (prepare_data) and
stage 2 (format_audio): an id with empty or blank text is kept by stage 1 and dropped by stage 2
as "empty text"; an unparseable or non-UTF-8 line is skipped with a warning naming file and line;
every good utterance reaches the dump's wav.scp, and nothing else is lost.
"""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet_ext.bin import format_audio, make_vc_data, prepare_data
from espnet_ext.corpora.data_dir import read_kv
from espnet_ext.corpora.utterance import MAX_BAD_FRACTION

LATIN1 = "Café".encode("latin-1")  # b"Caf\xe9": not UTF-8


def _wav(path: Path, fs: int = 16000, fmt=None) -> None:
    """0.3 s of a 220 Hz tone (long enough for stage 2's 0.1 s minimum)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(0.3 * fs)) / fs
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), fs, format=fmt)


@dataclass
class FaultyCorpus:
    """A hand-made corpus: which utterances are good, which have empty text, which lines are bad."""

    argv: list  # prepare_data's --corpus/--root/--split/--category
    good: list
    empty_text: list
    bad_lines: list = field(default_factory=list)  # "<file>:<line>" of each unreadable line

    @property
    def num_lines(self) -> int:  # every line (for LibriTTS, every text file) is one of the three
        return len(self.good) + len(self.empty_text) + len(self.bad_lines)


def _librispeech(root: Path) -> FaultyCorpus:
    chap = root / "LibriSpeech" / "dev-clean" / "1272" / "128104"
    trans = chap / "1272-128104.trans.txt"
    chap.mkdir(parents=True)
    trans.write_bytes(
        b"1272-128104-0000 MISTER QUILTER IS THE APOSTLE\n"
        b"1272-128104-0001 NOR IS MISTER QUILTER'S MANNER\n"
        b"1272-128104-0002\n"  # the case: an id and no text
        b"1272-128104-0003   \n"
        b"HE HAS GRAVE DOUBTS WHETHER\n"  # no id
        b"1272-128104-0005 " + LATIN1.upper() + b"\n"
    )
    for i in (0, 1, 2, 3, 5):
        _wav(chap / f"1272-128104-000{i}.flac", fmt="FLAC")
    return FaultyCorpus(
        ["--corpus", "librispeech", "--root", str(root), "--split", "dev-clean"],
        good=["1272-128104-0000", "1272-128104-0001"],
        empty_text=["1272-128104-0002", "1272-128104-0003"],
        bad_lines=[f"{trans}:5", f"{trans}:6"],
    )


def _libritts(root: Path) -> FaultyCorpus:
    chap = root / "LibriTTS" / "dev-clean" / "84" / "121123"
    stems = [f"84_121123_000008_00000{i}" for i in range(5)]
    texts = [b"He had a bad day.", b"She did not.", b"", b"  \n", LATIN1]  # good, good, empty, blank, not UTF-8
    for stem, text in zip(stems, texts):
        chap.mkdir(parents=True, exist_ok=True)
        (chap / f"{stem}.normalized.txt").write_bytes(text)
        _wav(chap / f"{stem}.wav", fs=24000)
    (chap / f"{stems[1]}.original.txt").write_bytes(LATIN1)  # for reference only: costs no utterance
    return FaultyCorpus(
        ["--corpus", "libritts", "--root", str(root), "--split", "dev-clean"],
        good=stems[:2],
        empty_text=stems[2:4],
        bad_lines=[f"{chap / stems[4]}.normalized.txt:1"],
    )


def _ljspeech(root: Path) -> FaultyCorpus:
    top = root / "LJSpeech-1.1"
    metadata = top / "metadata.csv"
    top.mkdir(parents=True)
    metadata.write_bytes(
        b"LJ001-0001|Printing, in the only sense.|Printing, in the only sense.\n"
        b"LJ001-0002|In being comparatively modern.|In being comparatively modern.\n"
        b"LJ001-0003||\n"  # empty fields
        b"LJ001-0004|raw text only| \n"
        b"LJ001-0005|only two fields\n"
        b"|no id|no id\n"
        b"LJ001-0007|" + LATIN1 + b"|" + LATIN1 + b"\n"
    )
    for i in range(1, 8):
        _wav(top / "wavs" / f"LJ001-000{i}.wav", fs=22050)
    return FaultyCorpus(
        ["--corpus", "ljspeech", "--root", str(root)],
        good=["LJ001-0001", "LJ001-0002"],
        empty_text=["LJ001-0003", "LJ001-0004"],
        bad_lines=[f"{metadata}:5", f"{metadata}:6", f"{metadata}:7"],
    )


def _cmu_arctic_prompts(root: Path, speaker: str) -> Path:
    top = root / f"cmu_us_{speaker}_arctic"
    prompts = top / "etc" / "txt.done.data"
    prompts.parent.mkdir(parents=True)
    prompts.write_bytes(
        b'( arctic_a0001 "Author of the danger trail, Philip Steels, etc." )\n'
        b'( arctic_a0002 "Not at this particular case, Tom, apologized Whittemore." )\n'
        b"( arctic_a0003 )\n"  # no text
        b'( arctic_a0004 "  " )\n'
        b'arctic_a0005 "For the twentieth time that evening."\n'  # no parentheses
        b'( arctic_a0006 "' + LATIN1 + b'" )\n'
    )
    for i in range(1, 7):
        _wav(top / "wav" / f"arctic_a000{i}.wav")
    return prompts


def _cmu_arctic(root: Path) -> FaultyCorpus:
    prompts = _cmu_arctic_prompts(root, "bdl")
    # --category tts: a VC utterance also needs its target speech (make_vc_data, tested below)
    return FaultyCorpus(
        ["--corpus", "cmu_arctic", "--root", str(root), "--split", "bdl", "--category", "tts"],
        good=["bdl_arctic_a0001", "bdl_arctic_a0002"],
        empty_text=["bdl_arctic_a0003", "bdl_arctic_a0004"],
        bad_lines=[f"{prompts}:5", f"{prompts}:6"],
    )


def _arabic_speech_corpus(root: Path) -> FaultyCorpus:
    top = root / "arabic-speech-corpus"
    transcript = top / "orthographic-transcript.txt"
    top.mkdir(parents=True)
    transcript.write_bytes(
        b'"ARA NORM  0001.wav" "ktAbN jamiylN"\n'
        b'"ARA NORM  0002.wav" "^alA^apu - >ayAm"\n'
        b'"ARA NORM  0003.wav"\n'  # no transcript
        b'"ARA NORM  0004.wav" " - "\n'  # a pause mark only: empty once converted
        b"ARA NORM  0005.wav, bayotN\n"  # no quotes
        b'"ARA NORM  0006.wav" "' + LATIN1 + b'"\n'
    )
    for i in range(1, 7):
        _wav(top / "wav" / f"ARA NORM  000{i}.wav", fs=48000)
    return FaultyCorpus(
        ["--corpus", "arabic_speech_corpus", "--root", str(root), "--split", "train"],
        good=["asc_train_ARA_NORM_0001", "asc_train_ARA_NORM_0002"],
        empty_text=["asc_train_ARA_NORM_0003", "asc_train_ARA_NORM_0004"],
        bad_lines=[f"{transcript}:5", f"{transcript}:6"],
    )


LAYOUTS = {
    "librispeech": _librispeech,
    "libritts": _libritts,
    "ljspeech": _ljspeech,
    "cmu_arctic": _cmu_arctic,
    "arabic_speech_corpus": _arabic_speech_corpus,
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_good_utterances_reach_the_dump_and_every_bad_one_is_named(tmp_path, caplog, layout):
    corpus = LAYOUTS[layout](tmp_path / "corpus")
    data, dump = tmp_path / "data", tmp_path / "dump"
    assert prepare_data.main([*corpus.argv, "--max_bad_fraction", "0.5", "--out", str(data)]) == 0
    for bad in corpus.bad_lines:
        assert f"{bad}: " in caplog.text  # the warning names file and line
    assert caplog.text.count("line skipped") == len(corpus.bad_lines)
    # stage 1 keeps the empty transcripts, as ESPnet's data prep does
    text = read_kv(data / "text")
    assert sorted(text) == sorted(corpus.good + corpus.empty_text)
    assert all(text[u] for u in corpus.good) and all(text[u] == "" for u in corpus.empty_text)

    assert format_audio.main(["--in", str(data), "--out", str(dump), "--nj", "1"]) == 0
    assert sorted(read_kv(dump / "wav.scp")) == sorted(corpus.good)
    assert read_kv(dump / "dropped.txt") == dict.fromkeys(corpus.empty_text, "empty text")
    assert read_kv(dump / "dropped_stage1.txt") == {}  # no audio was missing


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_past_the_default_max_bad_fraction_stage_1_fails_naming_the_files(tmp_path, caplog, layout):
    corpus = LAYOUTS[layout](tmp_path / "corpus")
    assert prepare_data.main([*corpus.argv, "--out", str(tmp_path / "data")]) == 1
    files = sorted({bad.rsplit(":", 1)[0] for bad in corpus.bad_lines})
    share = f"{len(corpus.bad_lines)} of {corpus.num_lines} transcript lines unreadable"
    assert f"{share} ({100 * len(corpus.bad_lines) / corpus.num_lines:.1f} %)" in caplog.text
    assert f"more than --max_bad_fraction {MAX_BAD_FRACTION}: {files[0]} (" in caplog.text
    assert not (tmp_path / "data").exists()


def _librispeech_lines(root: Path, num_lines: int, num_bad: int) -> None:
    """A chapter of ``num_lines`` lines, the last ``num_bad`` without an id; two utterances have audio."""
    chap = root / "LibriSpeech" / "dev" / "1" / "2"
    chap.mkdir(parents=True)
    good = [f"1-2-{i:04d} TEXT {i}" for i in range(num_lines - num_bad)]
    (chap / "1-2.trans.txt").write_text("\n".join(good + ["NO ID HERE"] * num_bad) + "\n")
    for i in range(2):
        _wav(chap / f"1-2-{i:04d}.flac", fmt="FLAC")


@pytest.mark.parametrize("num_bad, status", [(1, 0), (2, 1)])
def test_the_default_max_bad_fraction_allows_one_bad_line_in_a_hundred(tmp_path, caplog, num_bad, status):
    _librispeech_lines(tmp_path, 100, num_bad)
    argv = ["--corpus", "librispeech", "--root", str(tmp_path), "--split", "dev", "--out", str(tmp_path / "d")]
    assert prepare_data.main(argv) == status
    assert f"{num_bad} of 100 transcript lines unreadable ({num_bad:.1f} %)" in caplog.text
    if status == 0:
        assert sorted(read_kv(tmp_path / "d" / "wav.scp")) == ["1-2-0000", "1-2-0001"]
        assert len(read_kv(tmp_path / "d" / "dropped_stage1.txt")) == 97  # listed, without audio


def test_make_vc_data_pairs_the_readable_prompts_and_fails_past_the_fraction(tmp_path, caplog):
    prompts = [_cmu_arctic_prompts(tmp_path, spk) for spk in ("bdl", "slt")]
    outs = ["--train_out", str(tmp_path / "tr"), "--dev_out", str(tmp_path / "dv"), "--test_out", str(tmp_path / "te")]
    assert make_vc_data.main(["--root", str(tmp_path), "--heldout_prompts", "0", *outs]) == 1
    share = "4 of 12 transcript lines unreadable (33.3 %)"
    assert f"{share}, more than --max_bad_fraction {MAX_BAD_FRACTION}" in caplog.text
    assert f"{prompts[0]} (2 lines), {prompts[1]} (2 lines)" in caplog.text
    argv = ["--root", str(tmp_path), "--heldout_prompts", "0", "--max_bad_fraction", "0.5", *outs]
    assert make_vc_data.main(argv) == 0
    # prompts 1-4 in both directions; 3 and 4 have empty text, which stage 2 drops
    pairs = read_kv(tmp_path / "tr" / "text")
    directions = (("bdl", "slt"), ("slt", "bdl"))
    assert sorted(pairs) == sorted(f"{tgt}_vc_{src}_arctic_a000{i}" for src, tgt in directions for i in range(1, 5))
    assert sorted(u for u, text in pairs.items() if not text) == sorted(u for u in pairs if u[-1] in "34")
