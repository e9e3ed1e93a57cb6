"""python -m espnet_ext.bin.dmel_tokenize: a data dir's audio -> dMel tokens ark/scp (+ a fitted bin table)."""
import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet_ext.bin.dmel_tokenize import main
from espnet_ext.dmel.tokenizer import DMelTokenizer, MelRange, load_bin_table


@pytest.fixture(scope="module")
def data_dir(espeak_speech, tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    lines = []
    for key, text in (("spk1-u2", "good morning"), ("spk1-u1", "see you later")):
        sf.write(d / f"{key}.wav", espeak_speech(text), 16000)
        lines.append(f"{key} {d / key}.wav\n")
    (d / "wav.scp").write_text("".join(lines))
    return d


def tokens_of(path, rate=40, bin_table=None):
    wav, _ = sf.read(path, dtype="float32")
    tokens, _ = DMelTokenizer(frame_rate_hz=rate, bin_table=bin_table).encode(torch.from_numpy(wav)[None])
    return tokens[0].numpy()


@pytest.mark.parametrize("rate", [40, 80])
def test_writes_per_utterance_tokens_and_the_settings(data_dir, tmp_path, rate):
    assert main(["--data", str(data_dir), "--out", str(tmp_path), "--name", f"dmel{rate}", "--frame_rate_hz", str(rate)]) == 0
    tokens = dict(kaldiio.load_scp(str(tmp_path / f"dmel{rate}.scp")))
    assert sorted(tokens) == ["spk1-u1", "spk1-u2"]
    for key, value in tokens.items():
        assert value.dtype == np.float32 and value.shape[1] == 80
        np.testing.assert_array_equal(value, tokens_of(data_dir / f"{key}.wav", rate))
    info = yaml.safe_load((tmp_path / f"dmel{rate}.yaml").read_text())
    assert info["dmel_conf"] == dict(frame_rate_hz=rate, n_bits=4, bin_table=None)
    assert info["frames"] == sum(len(v) for v in tokens.values())


def test_fit_bin_table_uses_the_data_min_and_max(data_dir, tmp_path):
    table_path = tmp_path / "bins.npy"
    main(["--data", str(data_dir), "--out", str(tmp_path), "--fit_bin_table", str(table_path)])
    mel_range = MelRange()
    tok = DMelTokenizer()
    for key in ("spk1-u1", "spk1-u2"):
        wav, _ = sf.read(data_dir / f"{key}.wav", dtype="float32")
        mel_range.update(tok.log_mel(torch.from_numpy(wav)[None])[0][0].numpy())
    table = load_bin_table(table_path)
    np.testing.assert_allclose(table, mel_range.table(4), rtol=1e-6)
    assert table[0, 0] == pytest.approx(mel_range.lo.min(), abs=1e-5)
    info = yaml.safe_load((tmp_path / "dmel.yaml").read_text())
    assert info["dmel_conf"]["bin_table"] == str(table_path.resolve())
    tokens = dict(kaldiio.load_scp(str(tmp_path / "dmel.scp")))
    np.testing.assert_array_equal(tokens["spk1-u1"], tokens_of(data_dir / "spk1-u1.wav", bin_table=str(table_path)))


def test_wrong_sampling_rate_is_refused(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros(2205, dtype=np.float32), 22050)
    (tmp_path / "wav.scp").write_text(f"a {tmp_path / 'a.wav'}\n")
    with pytest.raises(SystemExit, match="22050 Hz"):
        main(["--data", str(tmp_path)])
    assert not (tmp_path / "dmel.scp").exists()
