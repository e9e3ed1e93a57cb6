from pathlib import Path

import pytest

from espnet_ext.bin.prepare_data import main as prepare_main
from espnet_ext.corpora import Utterance
from espnet_ext.corpora.data_dir import DataDirError, read_data_dir, read_kv, write_data_dir


def _utt(uid, spk, text="a b", cat="asr"):
    return Utterance(uid, spk, Path(f"/x/{uid}.wav"), text, cat)


def test_files_sorted_and_spk2utt_groups(tmp_path):
    out = write_data_dir(tmp_path / "d", [_utt("s2-1", "s2"), _utt("s1-2", "s1"), _utt("s1-1", "s1", cat="tts")])
    assert (out / "utt2spk").read_text() == "s1-1 s1\ns1-2 s1\ns2-1 s2\n"
    assert (out / "spk2utt").read_text() == "s1 s1-1 s1-2\ns2 s2-1\n"
    assert read_kv(out / "utt2category") == {"s1-1": "tts", "s1-2": "asr", "s2-1": "asr"}
    assert [u.utt_id for u in read_data_dir(out)] == ["s1-1", "s1-2", "s2-1"]


def test_duplicate_id_is_an_error_naming_both_files(tmp_path):
    first = Utterance("s1-1", "s1", Path("/corpus/a/s1-1.wav"), "a b", "asr")
    second = Utterance("s1-1", "s1", Path("/corpus/b/s1-1.flac"), "a b", "asr")
    with pytest.raises(DataDirError) as err:
        write_data_dir(tmp_path, [first, second])
    assert str(err.value).endswith("duplicate utterance id 's1-1': /corpus/a/s1-1.wav and /corpus/b/s1-1.flac")


def test_id_must_start_with_speaker(tmp_path):
    with pytest.raises(DataDirError, match="does not start with its speaker"):
        write_data_dir(tmp_path, [_utt("x-1", "s1")])


def test_prepare_data_drops_missing_audio_with_a_report(tmp_path):
    top = tmp_path / "LJSpeech-1.1"
    (top / "wavs").mkdir(parents=True)
    (top / "metadata.csv").write_text("LJ001-0001|A.|A.\nLJ001-0002|B.|B.\n")
    (top / "wavs" / "LJ001-0001.wav").write_bytes(b"")
    assert prepare_main(["--corpus", "ljspeech", "--root", str(tmp_path), "--out", str(tmp_path / "d")]) == 0
    assert list(read_kv(tmp_path / "d" / "wav.scp")) == ["LJ001-0001"]
    assert "LJ001-0002 missing audio" in (tmp_path / "d" / "dropped_stage1.txt").read_text()


def test_prepare_data_bad_root_exits_nonzero(tmp_path, caplog):
    assert prepare_main(["--corpus", "librispeech", "--root", str(tmp_path), "--split", "x", "--out", str(tmp_path)]) == 1
    assert "LibriSpeech/x" in caplog.text
