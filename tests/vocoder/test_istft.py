"""ISTFT vocoder: frame-exact output, the acoustic model's mel in the loss, training, checkpoints, resume."""
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet_ext.bin.train_vocoder import get_parser
from espnet_ext.bin.train_vocoder import main as train_vocoder_main
from espnet_ext.vocoder import MelConfig, load_vocoder, log_mel
from espnet_ext.vocoder.istft import CONFIG_FILE, ISTFTGenerator, ISTFTVocoder, load_istft
from espnet_ext.vocoder.istft_train import LogMel, istft_config, lr_at, save_checkpoint
from espnet_ext.vocoder.train import CONF_DIR, base_config, deep_update, train_vocoder

TINY = yaml.safe_load((CONF_DIR / "istft_tiny.yaml").read_text())
FS = 16000


def chirp_mix(seconds: float, f0: float, seed: int) -> np.ndarray:
    """Three harmonics of a gliding tone under a syllable-like envelope, in [-0.5, 0.5]."""
    t = np.arange(int(seconds * FS)) / FS
    rng = np.random.default_rng(seed)
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.3 * np.sin(2 * np.pi * 0.7 * t))) / FS
    wav = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in (1, 2, 3))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    return (0.25 * envelope * wav).astype(np.float32)


@pytest.fixture
def data_dir(tmp_path):
    """A Kaldi-style data dir of two 1-second synthetic utterances at 16 kHz."""
    folder = tmp_path / "data"
    folder.mkdir()
    lines = []
    for i, f0 in enumerate((150.0, 220.0)):
        path = folder / f"utt{i}.wav"
        sf.write(path, chirp_mix(1.0, f0, seed=i), FS)
        lines.append(f"utt{i} {path}\n")
    (folder / "wav.scp").write_text("".join(lines))
    return folder


def tiny_generator(mel: MelConfig = MelConfig(), seed: int = 0) -> ISTFTGenerator:
    """A tiny generator with random weights and non-trivial input statistics."""
    torch.manual_seed(seed)
    config = istft_config(deep_update(base_config("istft"), TINY), mel)
    generator = ISTFTGenerator(**config["generator_params"])
    stats = np.stack([np.random.default_rng(seed).normal(-4, 1, mel.n_mels), np.full(mel.n_mels, 1.5)])
    generator.set_stats(stats.astype(np.float32))
    return generator.eval()


def write_checkpoint(folder, generator: ISTFTGenerator, mel: MelConfig, step: int = 7):
    """The files the trainer writes (config.yaml + checkpoint), for ``generator``."""
    folder.mkdir(parents=True, exist_ok=True)
    config = istft_config(deep_update(base_config("istft"), TINY), mel)
    (folder / CONFIG_FILE).write_text(yaml.safe_dump(config))
    optimizer = torch.optim.AdamW(generator.parameters())
    return save_checkpoint(folder, generator, optimizer, step)


@pytest.mark.parametrize("hop,win", [(256, 1024), (400, 800)])
@pytest.mark.parametrize("frames", [1, 7, 40])
def test_output_has_hop_samples_per_frame(hop, win, frames):
    generator = tiny_generator(MelConfig(hop_length=hop, win_length=win))
    with torch.no_grad():
        wav = generator(torch.randn(2, frames, 80) - 4)
    assert wav.shape == (2, frames * hop) and torch.isfinite(wav).all()


def test_training_mel_is_the_acoustic_model_mel():
    wav = chirp_mix(0.5, 200.0, seed=3)
    torch_mel = LogMel(MelConfig())(torch.from_numpy(wav)[None])[0].T.numpy()
    np.testing.assert_allclose(torch_mel, log_mel(wav), atol=1e-4)


def test_lr_warms_up_then_decays_to_the_floor():
    config = dict(lr=1e-3, warmup_steps=10, train_max_steps=110, min_lr_ratio=0.1)
    assert lr_at(0, config) == pytest.approx(1e-4)
    assert lr_at(9, config) == pytest.approx(1e-3)
    assert lr_at(60, config) == pytest.approx(1e-3 * (0.1 + 0.9 * 0.5))
    assert lr_at(110, config) == pytest.approx(1e-4)


def test_checkpoint_round_trip_through_load_vocoder(tmp_path, random_mel):
    generator = tiny_generator()
    checkpoint = write_checkpoint(tmp_path / "exp", generator, MelConfig())
    with torch.no_grad():
        expected = np.clip(generator(random_mel[None])[0].numpy(), -1, 1)
    for path in (tmp_path / "exp", checkpoint):
        vocoder = load_vocoder(str(path))
        assert isinstance(vocoder, ISTFTVocoder) and vocoder.mel == MelConfig()
        np.testing.assert_array_equal(vocoder(random_mel), expected)
    assert torch.equal(load_istft(checkpoint)[0].mel_mean, generator.mel_mean)


def test_load_vocoder_takes_the_latest_checkpoint(tmp_path, random_mel):
    write_checkpoint(tmp_path / "exp", tiny_generator(seed=0), MelConfig(), step=20)
    write_checkpoint(tmp_path / "exp", tiny_generator(seed=1), MelConfig(), step=100)
    newest = load_vocoder(tmp_path / "exp/checkpoint-100steps.pth")
    np.testing.assert_array_equal(load_vocoder(tmp_path / "exp")(random_mel), newest(random_mel))


def test_mismatched_mel_settings_are_refused(tmp_path):
    write_checkpoint(tmp_path / "exp", tiny_generator(), MelConfig(fs=22050))
    with pytest.raises(ValueError, match="fs"):
        load_vocoder(tmp_path / "exp")
    write_checkpoint(tmp_path / "exp400", tiny_generator(MelConfig(hop_length=400)), MelConfig(hop_length=400))
    with pytest.raises(ValueError, match="hop_length"):
        load_vocoder(tmp_path / "exp400")


def test_cli_lists_istft():
    assert "istft" in get_parser().format_help()


def test_training_through_the_cli_lowers_the_mel_error(tmp_path, data_dir):
    # Validating on the training data: the valid mel L1 then measures how well training fits.
    common = ["--train_data_dir", str(data_dir), "--valid_data_dir", str(data_dir), "--vocoder_type", "istft"]
    common += ["--config", str(CONF_DIR / "istft_tiny.yaml")]
    assert train_vocoder_main(common + ["--outdir", str(tmp_path / "init"), "--train_max_steps", "0"]) == 0
    assert train_vocoder_main(common + ["--outdir", str(tmp_path / "exp")]) == 0
    assert sorted(p.name for p in (tmp_path / "exp").glob("*.pth")) == [
        "checkpoint-20steps.pth", "checkpoint-40steps.pth",
    ]  # fmt: skip
    before = yaml.safe_load((tmp_path / "init/train_summary.yaml").read_text())
    after = yaml.safe_load((tmp_path / "exp/train_summary.yaml").read_text())
    assert after["vocoder_type"] == "istft" and after["checkpoint"] == "checkpoint-40steps.pth"
    assert after["train_utterances"] == 2 and after["valid_utterances"] == 2
    # The trained model against the same seed's untrained one (about 2.6 -> 1.4 log10 units).
    assert after["valid_mel_l1"] < 0.7 * before["valid_mel_l1"]
    config = yaml.safe_load((tmp_path / "exp" / CONFIG_FILE).read_text())
    assert config["vocoder_type"] == "istft" and config["mel"] == MelConfig().to_dict()
    wav = load_vocoder(tmp_path / "exp")(log_mel(chirp_mix(0.5, 180.0, seed=5)))
    assert wav.shape == (32 * 256,) and wav.std() > 0


def test_resumed_training_equals_an_uninterrupted_run(tmp_path, data_dir):
    overrides = {**TINY, "train_max_steps": 20, "save_interval_steps": 10}
    train_vocoder(data_dir, tmp_path / "full", vocoder_type="istft", config=overrides, n_valid=1)
    (tmp_path / "resumed").mkdir()
    shutil.copy(tmp_path / "full/checkpoint-10steps.pth", tmp_path / "resumed")
    checkpoint = train_vocoder(
        data_dir, tmp_path / "resumed", vocoder_type="istft", config=overrides, n_valid=1, resume=tmp_path / "resumed"
    )
    assert checkpoint.name == "checkpoint-20steps.pth"
    full = torch.load(tmp_path / "full/checkpoint-20steps.pth", weights_only=True)
    resumed = torch.load(checkpoint, weights_only=True)
    assert resumed["step"] == 20
    for name, value in full["model"].items():
        assert torch.equal(resumed["model"][name], value), name
