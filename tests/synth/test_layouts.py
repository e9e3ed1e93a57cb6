"""Each corpus writer on a tiny corpus: file names, formats, sample rates, held-out splits,
determinism and idempotence. (Reader tests that parse the real formats live in tests/corpora.)"""
import json
import re
from pathlib import Path

import pytest
import soundfile as sf

from espnet_ext.bin import make_mini_corpus
from espnet_ext.corpora import (
    prepare_arabic_speech_corpus,
    prepare_cmu_arctic,
    prepare_librispeech,
    prepare_libritts,
    prepare_ljspeech,
)
from espnet_ext.corpora.librispeech import read_speakers
from espnet_ext.synth.corpus import CorpusExistsError, CorpusOptions, make_corpus
from espnet_ext.synth.sentences import role_of, sentence_key
from espnet_ext.text.buckwalter import from_buckwalter

TINY = dict(utts_per_speaker=3, eval_num_speakers=1, eval_utts_per_speaker=2, seed=5)
LIBRI_SPLITS = ("train-clean-100", "dev-clean", "test-clean")


def build(out: Path, layout: str, **kw) -> dict:
    opts = {**TINY, **kw}
    return make_corpus(CorpusOptions(layout=layout, **opts), out, nj=2, progress=False)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory, espeak_ng):
    out = tmp_path_factory.mktemp("corpora")
    reports = {
        "librispeech": build(out, "librispeech", num_speakers=2, splits=LIBRI_SPLITS),
        "libritts": build(out, "libritts", num_speakers=2, splits=LIBRI_SPLITS),
        "ljspeech": build(out, "ljspeech", utts_per_speaker=5),
        "cmu_arctic": build(out, "cmu_arctic", num_speakers=2, utts_per_speaker=4),
        "arabic_speech_corpus": build(out, "arabic_speech_corpus", utts_per_speaker=4),
    }
    return out, reports


def rate(path: Path) -> int:
    return sf.info(str(path)).samplerate


def test_librispeech_layout(corpora):
    out, report = corpora[0], corpora[1]["librispeech"]
    assert report["utterances"] == 2 * 3 + 2 + 2
    flacs = sorted((out / "LibriSpeech").glob("*/*/*/*.flac"))
    assert len(flacs) == 10
    for flac in flacs:
        split, spk, chapter = flac.parts[-4:-1]
        assert re.fullmatch(rf"{spk}-{chapter}-\d{{4}}\.flac", flac.name) and spk.isdigit() and chapter.isdigit()
        assert rate(flac) == 16000 and sf.info(str(flac)).format == "FLAC" and sf.info(str(flac)).subtype == "PCM_16"
    for trans in (out / "LibriSpeech").glob("*/*/*/*.trans.txt"):
        spk, chapter = trans.parent.parent.name, trans.parent.name
        assert trans.name == f"{spk}-{chapter}.trans.txt"
        for line in trans.read_text().splitlines():
            assert re.fullmatch(rf"{spk}-{chapter}-\d{{4}} [A-Z']+( [A-Z']+)*", line), line
    header = (out / "LibriSpeech" / "SPEAKERS.TXT").read_text().splitlines()
    assert ";ID  |SEX| SUBSET           |MINUTES| NAME" in header
    speakers = read_speakers(out)
    assert len(speakers) == 4 and {v["subset"] for v in speakers.values()} == set(LIBRI_SPLITS)
    # The project's reader accepts it; train and test speakers and sentences are disjoint.
    by_split = {s: prepare_librispeech(out, s) for s in LIBRI_SPLITS}
    train, test = by_split["train-clean-100"], by_split["test-clean"]
    assert not {u.speaker for u in train} & {u.speaker for u in test}
    assert not {u.text for u in train} & {u.text for u in test}
    assert {role_of(u.text, "en") for u in test} == {"test"}
    lines = [ln for ln in header if not ln.startswith(";")]
    assert all(re.fullmatch(r"\d+ *\| [MF] \| [a-z0-9-]+ *\| +\d+\.\d\d \| \S.*", ln) for ln in lines)
    assert all(len(ln.split("|")[0]) == 5 and len(ln.split("|")[2]) == 18 for ln in lines)  # column widths


@pytest.mark.parametrize("layout", ["librispeech", "libritts"])
def test_heldout_splits_do_not_depend_on_the_training_sizes(layout):
    from espnet_ext.synth.layouts import get_layout

    def heldout(**kw):
        mod = get_layout(layout)
        plan = mod.plan(mod.resolve(CorpusOptions(layout=layout, splits=LIBRI_SPLITS, **{**TINY, **kw})))
        return {split: [(u.path, u.text, u.speaker) for u in plan.utterances if f"/{split}/" in u.path]
                for split in ("train-clean-100", "dev-clean", "test-clean")}

    small, big = heldout(num_speakers=2), heldout(num_speakers=9, utts_per_speaker=7)
    assert small["test-clean"] and small["test-clean"] == big["test-clean"]
    assert small["dev-clean"] == big["dev-clean"]
    assert len(big["train-clean-100"]) == 63 and small["train-clean-100"] != big["train-clean-100"]
    # a bigger held-out part keeps the smaller one's first reader
    more = heldout(num_speakers=2, eval_num_speakers=2)["test-clean"]
    assert more[: len(small["test-clean"])] == small["test-clean"]


def test_libritts_layout(corpora):
    out = corpora[0]
    wavs = sorted((out / "LibriTTS").glob("*/*/*/*.wav"))
    assert len(wavs) == 10
    for wav in wavs:
        spk, chapter = wav.parts[-3:-1]
        assert re.fullmatch(rf"{spk}_{chapter}_\d{{6}}_\d{{6}}\.wav", wav.name)
        assert rate(wav) == 24000
        normalized = wav.with_name(wav.stem + ".normalized.txt").read_text()
        original = wav.with_name(wav.stem + ".original.txt").read_text()
        assert normalized and not normalized.endswith("\n") and not re.search(r"\d", normalized)
        assert sentence_key(normalized, "en") and original
    for trans in (out / "LibriTTS").glob("*/*/*/*.trans.tsv"):
        for line in trans.read_text().splitlines():
            utt_id, original, normalized = line.split("\t")
            assert (trans.parent / f"{utt_id}.normalized.txt").read_text() == normalized
            assert (trans.parent / f"{utt_id}.original.txt").read_text() == original
        book = trans.with_name(trans.name.replace(".trans.tsv", ".book.tsv")).read_text().splitlines()
        assert all(float(line.split()[-1]) > 0 for line in book)  # the SNR column lhotse reads
    assert (out / "LibriTTS" / "speakers.tsv").read_text().startswith("READER\tGENDER\tSUBSET\tNAME\n")
    assert len(prepare_libritts(out, "test-clean")) == 2


def test_ljspeech_layout(corpora):
    out = corpora[0]
    lines = (out / "LJSpeech-1.1" / "metadata.csv").read_text().splitlines()
    assert len(lines) == 5
    for line in lines:
        utt_id, raw, normalized = line.split("|")
        assert re.fullmatch(r"LJ\d{3}-\d{4}", utt_id) and raw and normalized
        assert rate(out / "LJSpeech-1.1" / "wavs" / f"{utt_id}.wav") == 22050
    assert lines[0].startswith("LJ001-0001|")
    utts = prepare_ljspeech(out)
    assert [role_of(u.text, "en") for u in utts] == ["train"] * 3 + ["test"] * 2  # held-out tail


def test_cmu_arctic_layout_is_parallel(corpora):
    out = corpora[0]
    prompts = {}
    for spk in ("bdl", "slt"):
        top = out / f"cmu_us_{spk}_arctic"
        text = (top / "etc" / "txt.done.data").read_text()
        assert all(re.fullmatch(r'\( arctic_a\d{4} "[^"]+" \)', ln) for ln in text.splitlines())
        prompts[spk] = text
        wavs = sorted((top / "wav").glob("*.wav"))
        assert [w.name for w in wavs] == [f"arctic_a{i:04d}.wav" for i in range(1, 5)]
        assert all(rate(w) == 16000 for w in wavs)
    assert prompts["bdl"] == prompts["slt"]
    bdl, slt = prepare_cmu_arctic(out, "bdl"), prepare_cmu_arctic(out, "slt")
    assert [u.text for u in bdl] == [u.text for u in slt]
    assert sf.info(str(bdl[0].audio)).frames != sf.info(str(slt[0].audio)).frames  # two different voices


def test_arabic_speech_corpus_layout(corpora):
    top = corpora[0] / "arabic-speech-corpus"
    for folder, phonetic, n in ((top, "phonetic-transcipt.txt", 4), (top / "test set", "phonetic-transcript.txt", 2)):
        names = [f"ARA NORM  {i:04d}.wav" for i in range(1, n + 1)]
        assert sorted(p.name for p in (folder / "wav").iterdir()) == names
        assert all(rate(folder / "wav" / name) == 48000 for name in names)
        assert sorted(p.name for p in (folder / "lab").iterdir()) == [n[:-4] + ".lab" for n in names]
        ortho = (folder / "orthographic-transcript.txt").read_text().splitlines()
        phones = (folder / phonetic).read_text().splitlines()
        for i, (o, p) in enumerate(zip(ortho, phones)):
            wav_name, bw = re.fullmatch(r'"([^"]+)" "([^"]+)"', o).groups()
            assert wav_name == names[i] and re.fullmatch(r"[A-Za-z'|>&<}*$^~`{\- ]+", bw) and "v" not in bw
            lab = (folder / "lab" / (wav_name[:-4] + ".lab")).read_text(encoding="utf-8")
            assert lab == "\ufeff" + bw.replace("*", "TH")
            assert re.fullmatch(r'"[^"]+" "sil( \S+)+ sil"', p)
    train = prepare_arabic_speech_corpus(corpora[0], "train")
    test = prepare_arabic_speech_corpus(corpora[0], "test")
    assert len(train) == 4 and len(test) == 2
    assert {role_of(from_buckwalter(u.extra["buckwalter"].replace("^", "v")), "ar") for u in test} == {"test"}


def test_same_seed_same_bytes_and_rerun_writes_nothing(corpora, tmp_path):
    out = corpora[0]
    again = build(tmp_path, "librispeech", num_speakers=2, splits=LIBRI_SPLITS)
    assert again["synthesized"] == 10
    for path in (out / "LibriSpeech").rglob("*"):
        if path.is_file():
            assert (tmp_path / path.relative_to(out)).read_bytes() == path.read_bytes(), path
    rerun = build(tmp_path, "librispeech", num_speakers=2, splits=LIBRI_SPLITS)
    assert (rerun["synthesized"], rerun["text_files_written"]) == (0, 0)
    missing = next((tmp_path / "LibriSpeech").rglob("*.flac"))
    missing.unlink()
    assert build(tmp_path, "librispeech", num_speakers=2, splits=LIBRI_SPLITS)["synthesized"] == 1
    assert missing.is_file()


def test_other_options_or_a_foreign_corpus_are_refused(corpora, tmp_path):
    with pytest.raises(CorpusExistsError, match="other options"):
        build(corpora[0], "librispeech", num_speakers=3, splits=LIBRI_SPLITS)
    (tmp_path / "LJSpeech-1.1").mkdir()
    with pytest.raises(CorpusExistsError, match="not written by make_mini_corpus"):
        build(tmp_path, "ljspeech")
    with pytest.raises(ValueError, match="--lang ar"):
        build(tmp_path, "librispeech", lang="ar")
    with pytest.raises(ValueError, match="exactly 1"):
        build(tmp_path, "ljspeech", num_speakers=3)


def test_cli_help_explains_every_option_and_runs(tmp_path, capsys, espeak_ng):
    with pytest.raises(SystemExit):
        make_mini_corpus.main(["--help"])
    help_text = capsys.readouterr().out
    for option in ("--layout", "--lang", "--out", "--num_speakers", "--utts_per_speaker", "--seed", "--splits", "--nj",
                   "--eval_num_speakers", "--eval_utts_per_speaker"):
        assert option in help_text
    report = make_mini_corpus.main(["--layout", "cmu_arctic", "--out", str(tmp_path), "--num_speakers", "1",
                                    "--utts_per_speaker", "2", "--no_progress"])
    assert report["utterances"] == 2
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["layout"] == "cmu_arctic"
