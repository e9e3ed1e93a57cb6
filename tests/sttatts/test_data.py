"""Preprocessing, mixed-task collation and the optional-sound data type."""
import numpy as np
import pytest
import soundfile as sf
from espnet2.train.dataset import ESPnetDataset

from sttatts_tiny import TOKENS
from espnet_ext.sttatts.data import CharTextConverter, STTATTSCollateFn, STTATTSPreprocessor, register_optional_sound


def test_text_becomes_character_ids_with_the_speecht5_space_and_unk():
    conv = CharTextConverter(TOKENS)
    ids = conv.text2ids("ab c!")
    assert [TOKENS[i] for i in ids] == ["a", "b", "▁", "c", "<unk>"]
    assert conv.ids2text(ids[:4]) == "ab c"


def test_preprocessor_maps_categories_and_keeps_only_what_each_task_reads():
    pre = STTATTSPreprocessor(TOKENS, ["asr", "tts", "vc", "asr:warm"])
    wav = np.zeros(100, np.float32)
    asr = pre("u1", {"speech": wav, "text": "ab", "category": "asr:warm\n", "speech_tgt": wav})
    assert asr["category"].tolist() == [3] and asr["text"].dtype == np.int64
    assert "speech_tgt" not in asr  # only VC reads a second waveform
    vc = pre("u2", {"speech": wav, "text": "ab", "category": "vc", "speech_tgt": wav})
    assert vc["category"].tolist() == [2] and len(vc["speech_tgt"]) == 100
    assert pre("u3", {"speech": wav, "text": "ab"})["category"].tolist() == [0]  # default: asr
    with pytest.raises(ValueError, match="target speech"):
        pre("u4", {"speech": wav, "text": "ab", "category": "vc"})
    with pytest.raises(ValueError, match="not one of"):
        pre("u5", {"speech": wav, "text": "ab", "category": "mt"})
    no_check = STTATTSPreprocessor(TOKENS, train=False)  # inference: a VC source needs no target
    assert "speech_tgt" not in no_check("u6", {"speech": wav, "category": "vc"})
    # ESPnet's streaming dataset first preprocesses the optional_sound part alone: left unchanged
    assert pre("u7", {"speech_tgt": wav}).keys() == {"speech_tgt"}


def test_collate_fills_keys_some_utterances_lack():
    items = [
        ("a", {"speech": np.ones(5, np.float32), "text": np.array([4, 5]), "category": np.array([0]), "spembs": np.ones(3, np.float32)}),
        ("b", {"speech": np.ones(3, np.float32), "text": np.array([6]), "category": np.array([2]), "spembs": np.ones(3, np.float32),
               "speech_tgt": np.ones(4, np.float32)}),
    ]
    keys, batch = STTATTSCollateFn()(items)
    assert keys == ["a", "b"]
    assert batch["speech_tgt_lengths"].tolist() == [0, 4]
    assert batch["text"].tolist() == [[4, 5], [6, -1]]
    assert batch["category"].tolist() == [[0], [2]] and "category_lengths" not in batch
    assert tuple(batch["spembs"].shape) == (2, 3) and "spembs_lengths" not in batch


def test_optional_sound_gives_an_empty_waveform_for_utterances_it_does_not_list(tmp_path):
    register_optional_sound()
    for name, n in (("a", 160), ("b", 320)):
        sf.write(tmp_path / f"{name}.wav", np.full(n, 0.1, np.float32), 16000)
    (tmp_path / "wav.scp").write_text(f"a {tmp_path / 'a.wav'}\nb {tmp_path / 'b.wav'}\n")
    (tmp_path / "tgt_wav.scp").write_text(f"b {tmp_path / 'a.wav'}\n")
    ds = ESPnetDataset([(str(tmp_path / "wav.scp"), "speech", "sound"), (str(tmp_path / "tgt_wav.scp"), "speech_tgt", "optional_sound")])
    assert len(ds["a"][1]["speech_tgt"]) == 0
    assert len(ds["b"][1]["speech_tgt"]) == 160
