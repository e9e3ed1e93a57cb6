import numpy as np
import soundfile as sf

from espnet_ext.bin.combine_data import main
from espnet_ext.corpora.data_dir import read_kv


def _dir(root, name, cat, seconds):
    d = root / name
    d.mkdir()
    rows = {f"{name}-{i}": s for i, s in enumerate(seconds)}
    for utt, s in rows.items():
        sf.write(root / f"{utt}.wav", np.zeros(int(16000 * s), dtype=np.float32), 16000)
    (d / "wav.scp").write_text("".join(f"{u} {root / (u + '.wav')}\n" for u in rows))
    (d / "text").write_text("".join(f"{u} x\n" for u in rows))
    (d / "utt2spk").write_text("".join(f"{u} {name}\n" for u in rows))
    (d / "utt2category").write_text("".join(f"{u} {cat}\n" for u in rows))
    return d


def test_combines_and_balances_asr_hours_to_tts_hours(tmp_path):
    asr = _dir(tmp_path, "a", "asr", [1.0] * 10)
    tts = _dir(tmp_path, "t", "tts", [1.0, 2.0])
    assert main(["--out", str(tmp_path / "all"), str(asr), str(tts), "--asr_tts_hours_ratio", "2"]) == 0
    cats = read_kv(tmp_path / "all" / "utt2category")
    assert sum(c == "asr" for c in cats.values()) == 6  # 2 x 3 s of TTS = 6 s of ASR kept
    assert sum(c == "tts" for c in cats.values()) == 2
    assert len(read_kv(tmp_path / "all" / "dropped_balance.txt")) == 4
    assert read_kv(tmp_path / "all" / "spk2utt")["t"] == "t-0 t-1"


def test_duplicate_ids_across_inputs_are_an_error(tmp_path):
    a = _dir(tmp_path, "a", "asr", [1.0])
    b = tmp_path / "b"
    b.mkdir()
    for f in ("wav.scp", "text", "utt2spk", "utt2category"):
        (b / f).write_text((a / f).read_text())
    import pytest

    with pytest.raises(SystemExit, match="duplicate utterance id 'a-0'"):
        main(["--out", str(tmp_path / "o"), str(a), str(b)])


def test_vc_target_list_survives_combination_with_asr(tmp_path):
    asr = _dir(tmp_path, "a", "asr", [1.0])
    vc = _dir(tmp_path, "v", "vc", [1.0])
    (vc / "tgt_wav.scp").write_text("v-0 /x/t.wav\n")
    assert main(["--out", str(tmp_path / "all"), str(asr), str(vc)]) == 0
    assert read_kv(tmp_path / "all" / "tgt_wav.scp") == {"v-0": "/x/t.wav"}
    assert len(read_kv(tmp_path / "all" / "wav.scp")) == 2
