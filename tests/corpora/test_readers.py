"""Each corpus reader on a hand-made tree in the real corpus's format (not our synthesizer's)."""
import numpy as np
import pytest
import soundfile as sf

from espnet_ext.corpora import (
    CorpusLayoutError,
    make_vc_pairs,
    prepare_arabic_speech_corpus,
    prepare_cmu_arctic,
    prepare_librispeech,
    prepare_libritts,
    prepare_ljspeech,
)
from espnet_ext.corpora.librispeech import read_speakers


def _audio(path, fs, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(fs // 10, dtype=np.float32), fs, format=fmt)


def test_librispeech_reads_chapters_transcripts_and_speakers(tmp_path):
    chap = tmp_path / "LibriSpeech" / "dev-clean" / "1272" / "128104"
    chap.mkdir(parents=True)
    (chap / "1272-128104.trans.txt").write_text(
        "1272-128104-0000 MISTER QUILTER IS THE APOSTLE OF THE MIDDLE CLASSES\n"
        "1272-128104-0001 NOR IS MISTER QUILTER'S MANNER LESS INTERESTING\n"
    )
    for i in range(2):
        _audio(chap / f"1272-128104-000{i}.flac", 16000)
    (tmp_path / "LibriSpeech" / "SPEAKERS.TXT").write_text(
        "; Some comment\n;ID  |SEX| SUBSET           |MINUTES| NAME\n"
        "1272 | M | dev-clean        |  8.02 | John Rose\n"
    )
    utts = prepare_librispeech(tmp_path, "dev-clean")
    assert [u.utt_id for u in utts] == ["1272-128104-0000", "1272-128104-0001"]
    assert utts[1].text == "NOR IS MISTER QUILTER'S MANNER LESS INTERESTING"
    assert {u.speaker for u in utts} == {"1272"} and utts[0].category == "asr"
    assert utts[0].audio.name == "1272-128104-0000.flac"
    assert read_speakers(tmp_path)["1272"] == {"sex": "M", "subset": "dev-clean", "minutes": 8.02, "name": "John Rose"}


def test_librispeech_missing_split_names_the_folder(tmp_path):
    with pytest.raises(CorpusLayoutError, match="LibriSpeech/train-clean-100"):
        prepare_librispeech(tmp_path, "train-clean-100")


def test_libritts_uses_normalized_text_and_keeps_original(tmp_path):
    chap = tmp_path / "LibriTTS" / "train-clean-100" / "103" / "1241"
    chap.mkdir(parents=True)
    stem = "103_1241_000000_000001"
    (chap / f"{stem}.normalized.txt").write_text("Matthew Cuthbert is surprised")
    (chap / f"{stem}.original.txt").write_text("Matthew Cuthbert is surprised.")
    _audio(chap / f"{stem}.wav", 24000)
    (u,) = prepare_libritts(tmp_path, "train-clean-100")
    assert (u.utt_id, u.speaker, u.text, u.category) == (stem, "103", "Matthew Cuthbert is surprised", "tts")
    assert u.extra["original"] == "Matthew Cuthbert is surprised."


def test_ljspeech_metadata_three_fields_pipe_separated(tmp_path):
    top = tmp_path / "LJSpeech-1.1"
    top.mkdir()
    (top / "metadata.csv").write_text(
        'LJ001-0001|Printing, in the only sense, "1 time"|Printing, in the only sense, "one time"\n'
    )
    (u,) = prepare_ljspeech(tmp_path)
    assert u.utt_id == "LJ001-0001" and u.speaker == "LJ"
    assert u.text == 'Printing, in the only sense, "one time"'
    assert u.audio == top / "wavs" / "LJ001-0001.wav"
    (top / "metadata.csv").write_text("LJ001-0001|only two fields\n")
    with pytest.raises(CorpusLayoutError, match="metadata.csv:1"):
        prepare_ljspeech(tmp_path)


def test_cmu_arctic_prompts_and_parallel_pairs(tmp_path):
    for spk in ("bdl", "slt"):
        etc = tmp_path / f"cmu_us_{spk}_arctic" / "etc"
        etc.mkdir(parents=True)
        (etc / "txt.done.data").write_text(
            '( arctic_a0001 "Author of the danger trail, Philip Steels, etc." )\n'
            '( arctic_a0002 "Not at this particular case, Tom, apologized Whittemore." )\n'
        )
    by_spk = {spk: prepare_cmu_arctic(tmp_path, spk) for spk in ("bdl", "slt")}
    assert by_spk["bdl"][0].utt_id == "bdl_arctic_a0001"
    assert by_spk["bdl"][0].text == "Author of the danger trail, Philip Steels, etc."
    pairs = make_vc_pairs(by_spk)
    assert len(pairs) == 4  # 2 prompts x 2 ordered speaker pairs
    assert all(s.extra["prompt_id"] == t.extra["prompt_id"] and s.speaker != t.speaker for s, t in pairs)
    assert len(make_vc_pairs(by_spk, sources=["bdl"], targets=["slt"])) == 2


def test_arabic_speech_corpus_two_space_names_and_buckwalter(tmp_path):
    top = tmp_path / "arabic-speech-corpus"
    (top / "test set").mkdir(parents=True)
    (top / "orthographic-transcript.txt").write_text(
        '"ARA NORM  0002.wav" "ktAbN jamiylN"\n"ARA NORM  0004.wav" "^alA^apu - >ayAm"\n'
    )
    (top / "test set" / "orthographic-transcript.txt").write_text('"ARA NORM  0003.wav" "bayotN"\n')
    train, quirks = prepare_arabic_speech_corpus(tmp_path, "train")
    assert quirks.text == "ثَلاثَةُ أَيام"  # ASC writes tha as '^' and pauses as ' - '
    (test,) = prepare_arabic_speech_corpus(tmp_path, "test")
    assert train.utt_id == "asc_train_ARA_NORM_0002" and train.audio.name == "ARA NORM  0002.wav"
    assert train.text == "كتابٌ جَمِيلٌ" and train.extra["buckwalter"] == "ktAbN jamiylN"
    assert test.audio.parent == top / "test set" / "wav"
    with pytest.raises(ValueError, match="dev"):
        prepare_arabic_speech_corpus(tmp_path, "dev")
