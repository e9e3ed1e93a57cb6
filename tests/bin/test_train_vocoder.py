"""python -m espnet_ext.bin.train_vocoder: a few steps at dMel's 40 Hz hop, loadable by load_vocoder."""
import numpy as np
import pytest
import soundfile as sf
import yaml

from espnet_ext.bin.train_vocoder import main
from espnet_ext.vocoder import load_vocoder, log_mel
from espnet_ext.vocoder.features import MelConfig
from espnet_ext.vocoder.train import CONF_DIR


@pytest.fixture
def data_dirs(tmp_path, espeak_speech):
    """train (two voices) and valid (one utterance) Kaldi-style data dirs of 16 kHz espeak-ng speech."""
    dirs = {}
    for name, items in {
        "train": [("en-us", "Good morning, how are you today?"), ("en-us+f3", "The weather is lovely this week.")],
        "valid": [("en-us", "See you tomorrow at noon.")],
    }.items():
        folder = tmp_path / name
        folder.mkdir()
        lines = []
        for i, (voice, text) in enumerate(items):
            sf.write(folder / f"{i}.wav", espeak_speech(text, voice=voice), 16000)
            lines.append(f"spk{i}_{name}{i} {folder / f'{i}.wav'}\n")
        (folder / "wav.scp").write_text("".join(lines))
        dirs[name] = folder
    return dirs


def test_cli_trains_a_dmel_rate_vocoder(tmp_path, data_dirs, espeak_speech, capsys):
    overrides = yaml.safe_load((CONF_DIR / "hifigan_tiny.yaml").read_text())
    overrides.update(batch_max_steps=4000, eval_interval_steps=2)
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(overrides))
    argv = [
        "--train_data_dir", str(data_dirs["train"]), "--valid_data_dir", str(data_dirs["valid"]),
        "--outdir", str(tmp_path / "exp"), "--vocoder_type", "hifigan", "--config", str(tmp_path / "tiny.yaml"),
        "--train_max_steps", "2", "--hop_length", "400", "--win_length", "800", "--normalize", "false",
    ]  # fmt: skip
    assert main(argv) == 0
    checkpoint = capsys.readouterr().out.strip().splitlines()[-1]
    assert checkpoint.endswith("checkpoint-2steps.pkl")
    assert not (tmp_path / "exp" / "stats.npy").exists()
    config = yaml.safe_load((tmp_path / "exp" / "config.yml").read_text())
    assert np.prod(config["generator_params"]["upsample_scales"]) == 400 and config["hop_size"] == 400

    vocoder = load_vocoder(checkpoint, hop_length=400, win_length=800)
    assert not vocoder.normalize
    mel = log_mel(espeak_speech("Testing."), MelConfig(hop_length=400, win_length=800))
    wav = vocoder(mel)
    assert wav.shape == (len(mel) * 400,) and np.isfinite(wav).all()
    with pytest.raises(ValueError, match="hop_length"):
        load_vocoder(checkpoint)  # the SpeechT5 hop (256) does not fit this vocoder
