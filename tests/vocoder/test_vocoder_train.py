"""Vocoder training wrapper: our features, consistent config, a few real parallel_wavegan steps."""
import kaldiio
import numpy as np
import pytest
import soundfile as sf
import yaml

from espnet_ext.vocoder import MelConfig, load_vocoder, log_mel
from espnet_ext.vocoder.parallel_wavegan import ParallelWaveGANVocoder, mel_config_from_pwg
from espnet_ext.vocoder.train import (
    CONF_DIR,
    base_config,
    deep_update,
    dump_features,
    fit_config_to_mel,
    train_vocoder,
    upsample_factors,
)

SENTENCES = [
    "Hello world, this is a test of the vocoder.",
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore.",
]


@pytest.fixture
def data_dir(tmp_path, espeak_speech):
    """A Kaldi-style data dir of three espeak-ng utterances stored at 22.05 kHz (resampled on dump)."""
    folder = tmp_path / "data"
    folder.mkdir()
    lines = []
    for i, text in enumerate(SENTENCES):
        path = folder / f"utt{i}.wav"
        sf.write(path, espeak_speech(text, fs=22050), 22050)
        lines.append(f"spk_utt{i} {path}\n")
    (folder / "wav.scp").write_text("".join(lines))
    return folder


@pytest.mark.parametrize("hop,expected", [(256, [4, 4, 4, 4]), (400, [5, 5, 4, 4]), (200, [5, 5, 4, 2])])
def test_upsample_factors_multiply_to_the_hop(hop, expected):
    assert upsample_factors(hop) == expected


@pytest.mark.parametrize("vocoder_type", ["hifigan", "parallel_wavegan"])
def test_config_follows_the_mel_settings(vocoder_type):
    mel = MelConfig(hop_length=400, win_length=800)
    config = fit_config_to_mel(base_config(vocoder_type), mel)
    gen = config["generator_params"]
    scales = gen["upsample_scales"] if vocoder_type == "hifigan" else gen["upsample_params"]["upsample_scales"]
    assert int(np.prod(scales)) == 400
    assert mel_config_from_pwg(config) == mel
    assert config["batch_max_steps"] % 400 == 0
    if vocoder_type == "hifigan":
        assert config["mel_loss_params"]["hop_size"] == 400 and config["mel_loss_params"]["fmin"] == 80


def test_default_hop_keeps_the_base_upsampling():
    config = fit_config_to_mel(base_config("hifigan"), MelConfig())
    assert config["generator_params"]["upsample_scales"] == [8, 8, 2, 2]


def test_deep_update_merges_nested_keys():
    merged = deep_update({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"c": 5}})
    assert merged == {"a": {"b": 1, "c": 5}, "d": 3}


def test_dumped_features_are_the_acoustic_model_mels(tmp_path, data_dir):
    mel = MelConfig()
    wav_scp, feats_scp = dump_features(data_dir, tmp_path / "dump", mel)
    feats = dict(kaldiio.load_scp(str(feats_scp)))
    for line in wav_scp.read_text().splitlines():
        utt, path = line.split()
        wav, fs = sf.read(path, dtype="float32")
        assert fs == 16000 and len(wav) == len(feats[utt]) * mel.hop_length
        # Recomputing from the dumped 16 kHz audio gives the stored mel (up to 16-bit rounding);
        # the padded audio yields one extra frame at the end.
        again = log_mel(wav, mel)[: len(feats[utt])]
        speech = feats[utt].max(axis=1) > -4
        assert np.abs(again[speech] - feats[utt][speech]).mean() < 0.01


@pytest.mark.parametrize("vocoder_type", ["hifigan", "parallel_wavegan"])
def test_a_few_training_steps_give_a_loadable_checkpoint(tmp_path, data_dir, espeak_speech, vocoder_type):
    overrides = yaml.safe_load((CONF_DIR / f"{vocoder_type}_tiny.yaml").read_text())
    overrides.update(train_max_steps=3, eval_interval_steps=3, log_interval_steps=1)
    checkpoint = train_vocoder(data_dir, tmp_path / "exp", vocoder_type=vocoder_type, config=overrides, n_valid=1)
    assert checkpoint.name == "checkpoint-3steps.pkl"
    assert (tmp_path / "exp" / "stats.npy").is_file()
    summary = yaml.safe_load((tmp_path / "exp" / "train_summary.yaml").read_text())
    assert summary["train_utterances"] == 2 and summary["valid_utterances"] == 1 and summary["train_seconds"] > 0
    vocoder = load_vocoder(checkpoint)
    assert isinstance(vocoder, ParallelWaveGANVocoder) and vocoder.normalize
    assert vocoder.mel == MelConfig()
    mel = log_mel(espeak_speech("Testing."))
    wav = vocoder(mel)
    assert wav.shape == (len(mel) * 256,) and np.isfinite(wav).all() and wav.std() > 0
