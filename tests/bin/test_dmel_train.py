"""python -m espnet_ext.bin.dmel_train: ESPnet's collect_stats and trainer on a two-utterance data dir."""
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import yaml

from espnet_ext.bin import dmel_tokenize
from espnet_ext.bin.dmel_inference import Speech2Text, Text2Speech
from espnet_ext.bin.dmel_train import main

CONF = Path(__file__).resolve().parents[2] / "conf" / "dmel_mini.yaml"
TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "▁", *"abcdefghijklmnopqrstuvwxyz'", "<mask>", "<ctc_blank>"]
TINY = ["--lm_conf", "{n_layer: 1, n_head: 2, n_embd: 32, channel_embd: 2, spk_embed_dim: 4}"]


@pytest.fixture(scope="module")
def data(espeak_speech, tmp_path_factory):
    d = tmp_path_factory.mktemp("dmel_data")
    texts = {"spk1-u1": "open the door", "spk1-u2": "a cat sat", "spk2-u1": "hello"}
    for key, text in texts.items():
        sf.write(d / f"{key}.wav", espeak_speech(text), 16000)
    (d / "wav.scp").write_text("".join(f"{k} {d / k}.wav\n" for k in texts))
    (d / "text").write_text("".join(f"{k} {t}\n" for k, t in texts.items()))
    g = np.random.default_rng(0)
    with kaldiio.WriteHelper(f"ark,scp:{d / 'dvector.ark'},{d / 'dvector.scp'}") as w:
        for key in texts:
            w(key, g.standard_normal(4).astype(np.float32))
    dmel_tokenize.main(["--data", str(d)])
    (d / "tokens.txt").write_text("\n".join(TOKENS) + "\n")
    (d / "keys").write_text("".join(f"{k}\n" for k in texts))
    return d


def data_args(d, speech="dmel.scp,speech,kaldi_ark"):
    out = []
    for split in ("train", "valid"):
        for triple in (speech, "text,text,text", "dvector.scp,spembs,kaldi_ark"):
            out += [f"--{split}_data_path_and_name_and_type", f"{d}/{triple}"]
    return out


@pytest.mark.parametrize("speech", ["dmel.scp,speech,kaldi_ark", "wav.scp,speech,sound"])
def test_collect_stats_then_joint_training_writes_a_loadable_model(data, tmp_path, speech):
    common = ["--config", str(CONF), "--token_list", str(data / "tokens.txt"), *TINY, *data_args(data, speech)]
    main(common + ["--collect_stats", "true", "--output_dir", str(tmp_path / "stats"),
                   "--train_shape_file", str(data / "keys"), "--valid_shape_file", str(data / "keys")])
    shape = (tmp_path / "stats" / "train" / "speech_shape").read_text().split()
    assert shape[shape.index("spk2-u1") + 1].endswith(",80") == speech.startswith("dmel")
    exp = tmp_path / "exp"
    main(common + [
        "--output_dir", str(exp), "--model_conf", "job=joint", "--max_epoch", "2", "--num_iters_per_epoch", "2",
        "--scheduler_conf", "first_cycle_steps=4", "--scheduler_conf", "warmup_steps=1",
        "--train_shape_file", str(tmp_path / "stats/train/speech_shape"),
        "--train_shape_file", str(tmp_path / "stats/train/text_shape"),
        "--valid_shape_file", str(tmp_path / "stats/valid/speech_shape"),
        "--valid_shape_file", str(tmp_path / "stats/valid/text_shape"),
    ])
    config = yaml.safe_load((exp / "config.yaml").read_text())
    assert config["token_list"] == TOKENS and config["model_conf"]["job"] == "joint"
    for name in ("1epoch.pth", "2epoch.pth", "valid.loss.best.pth", "checkpoint.pth"):
        assert (exp / name).exists(), name
    model_file = exp / "valid.loss.best.pth"
    hyps = Speech2Text(exp / "config.yaml", model_file, beam_size=2, maxlenratio=0.1)(
        sf.read(data / "spk1-u1.wav", dtype="float32")[0])
    assert hyps and isinstance(hyps[0][0], str)
    out = Text2Speech(exp / "config.yaml", model_file, maxlenratio=2.0)("hello", spembs=np.ones(4, np.float32))
    assert out["tokens"].shape[1] == 80 and out["wav"].ndim == 1
