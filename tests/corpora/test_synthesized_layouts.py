"""The synthesizer's corpora read back by the corpus readers and by the real formats' own rules.

Each check is written from the real corpus's conventions (file naming, rates, transcript syntax),
not from the synthesizer's code, so a layout that drifts from the real one fails here.
"""
import hashlib
import re

import pytest
import soundfile as sf

from espnet_ext.bin.make_mini_corpus import main as make_mini_corpus
from espnet_ext.corpora import (
    make_vc_pairs,
    prepare_arabic_speech_corpus,
    prepare_cmu_arctic,
    prepare_librispeech,
    prepare_libritts,
    prepare_ljspeech,
)
from espnet_ext.corpora.cmu_arctic import list_speakers
from espnet_ext.corpora.librispeech import read_speakers
from espnet_ext.text.buckwalter import BUCKWALTER_TO_ARABIC

SPLITS = ["train-clean-100", "test-clean"]


def synth(out, layout, lang="en", **opts):
    argv = ["--layout", layout, "--lang", lang, "--out", str(out), "--nj", "1", "--no_progress"]
    for key, value in opts.items():
        argv += [f"--{key}", *(value if isinstance(value, list) else [str(value)])]
    make_mini_corpus(argv)
    return out


def tree_digest(root):
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def librispeech(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("ls"), "librispeech", num_speakers=3, utts_per_speaker=4, splits=SPLITS)


def test_librispeech_layout_rates_and_transcripts(librispeech):
    name = re.compile(r"^LibriSpeech/(train-clean-100|test-clean)/(\d+)/(\d+)/\2-\3-(\d{4})\.flac$")
    flacs = sorted(librispeech.rglob("*.flac"))
    assert flacs
    for f in flacs:
        assert name.match(str(f.relative_to(librispeech))), f
        info = sf.info(f)
        assert (info.format, info.samplerate, info.channels) == ("FLAC", 16000, 1)
    for trans in librispeech.rglob("*.trans.txt"):
        spk, chapter = trans.parent.parent.name, trans.parent.name
        assert trans.name == f"{spk}-{chapter}.trans.txt"
        for line in trans.read_text().splitlines():
            assert re.match(rf"^{spk}-{chapter}-\d{{4}} [A-Z']+( [A-Z']+)*$", line), line
    speakers = read_speakers(librispeech)
    for split in SPLITS:
        utts = prepare_librispeech(librispeech, split)
        assert all(u.audio.is_file() for u in utts)
        assert {speakers[u.speaker]["subset"] for u in utts} == {split}
        assert all(speakers[u.speaker]["sex"] in ("M", "F") for u in utts)


def test_librispeech_test_split_has_held_out_voices_and_sentences(librispeech):
    train = prepare_librispeech(librispeech, "train-clean-100")
    test = prepare_librispeech(librispeech, "test-clean")
    assert len({u.speaker for u in train}) == 3
    assert not {u.speaker for u in train} & {u.speaker for u in test}
    assert not {u.text for u in train} & {u.text for u in test}


def test_same_seed_same_corpus_other_seed_other_text(tmp_path, librispeech):
    again = synth(tmp_path / "a", "librispeech", num_speakers=3, utts_per_speaker=4, splits=SPLITS)
    assert tree_digest(again / "LibriSpeech") == tree_digest(librispeech / "LibriSpeech")
    other = synth(tmp_path / "b", "librispeech", num_speakers=3, utts_per_speaker=4, splits=SPLITS, seed=1)
    texts = lambda root: {u.text for u in prepare_librispeech(root, "train-clean-100")}  # noqa: E731
    assert texts(other) != texts(librispeech)


def test_libritts_layout(tmp_path):
    root = synth(tmp_path, "libritts", num_speakers=2, utts_per_speaker=3, splits=SPLITS)
    name = re.compile(r"^LibriTTS/(train-clean-100|test-clean)/(\d+)/(\d+)/\2_\3_\d{6}_\d{6}\.wav$")
    for split in SPLITS:
        for u in prepare_libritts(root, split):
            assert name.match(str(u.audio.relative_to(root))), u.audio
            assert sf.info(u.audio).samplerate == 24000
            assert u.text and u.extra["original"]
            assert u.audio.with_suffix(".original.txt").is_file()


def test_ljspeech_layout(tmp_path):
    root = synth(tmp_path, "ljspeech", num_speakers=1, utts_per_speaker=4)
    lines = (root / "LJSpeech-1.1" / "metadata.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4 and all(line.count("|") == 2 for line in lines)
    utts = prepare_ljspeech(root)
    assert all(re.match(r"^LJ\d{3}-\d{4}$", u.utt_id) for u in utts)
    assert all(sf.info(u.audio).samplerate == 22050 for u in utts)
    assert not any(ch.isdigit() for u in utts for ch in u.text)  # normalized column spells numbers out


def test_cmu_arctic_is_parallel(tmp_path):
    root = synth(tmp_path, "cmu_arctic", num_speakers=3, utts_per_speaker=3)
    speakers = list_speakers(root)
    assert len(speakers) == 3
    by_spk = {s: prepare_cmu_arctic(root, s) for s in speakers}
    prompts = {s: {u.extra["prompt_id"]: u.text for u in utts} for s, utts in by_spk.items()}
    assert all(p == prompts[speakers[0]] for p in prompts.values())  # same sentences for every speaker
    assert list(prompts[speakers[0]]) == ["arctic_a0001", "arctic_a0002", "arctic_a0003"]
    assert all(sf.info(u.audio).samplerate == 16000 for utts in by_spk.values() for u in utts)
    assert len(make_vc_pairs(by_spk)) == 3 * 2 * 3


def test_arabic_speech_corpus_layout(tmp_path):
    root = synth(tmp_path, "arabic_speech_corpus", lang="ar", utts_per_speaker=4)
    top = root / "arabic-speech-corpus"
    assert (top / "phonetic-transcipt.txt").is_file()  # sic, as the real corpus
    assert (top / "test set" / "phonetic-transcript.txt").is_file()
    allowed = set(BUCKWALTER_TO_ARABIC) | {" ", "^", "-"}  # ASC writes tha as '^', pauses as ' - '
    for subset in ("train", "test"):
        utts = prepare_arabic_speech_corpus(root, subset)
        assert utts
        for u in utts:
            assert re.match(r"^ARA NORM  \d{4}\.wav$", u.audio.name), u.audio.name
            assert u.audio.is_file() and sf.info(u.audio).samplerate == 48000
            assert (u.audio.parent.parent / "lab" / u.audio.with_suffix(".lab").name).is_file()
            assert set(u.extra["buckwalter"]) <= allowed, u.extra["buckwalter"]
            assert any("\u064b" <= ch <= "\u0652" for ch in u.text)  # diacritised, as ASC's transcripts
            assert not set(u.text) & {"^", "-"}  # the ASC quirks never reach the Arabic text
    train_text = {u.text for u in prepare_arabic_speech_corpus(root, "train")}
    assert not train_text & {u.text for u in prepare_arabic_speech_corpus(root, "test")}
