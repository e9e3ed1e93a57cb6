"""Our HiFi-GAN generator reproduces transformers' SpeechT5HifiGan from the same weights."""
import numpy as np
import pytest
import torch

from espnet_ext.vocoder.features import MelConfig
from espnet_ext.vocoder.hifigan import HiFiGANGenerator, load_hifigan, save_hifigan
from espnet_ext.vocoder.speecht5_hifigan import load_speecht5_hifigan

PARITY_TOL = 1e-4


@pytest.mark.parametrize(
    "weight_norm,normalize_before",
    [(False, True), (True, True), (False, False)],
    ids=["plain", "weight-norm-checkpoint", "no-normalisation"],
)
def test_waveform_matches_transformers(tmp_path, speecht5_hifigan, random_mel, weight_norm, normalize_before):
    reference = speecht5_hifigan(weight_norm=weight_norm, normalize_before=normalize_before)
    reference.save_pretrained(tmp_path / "hf")
    ours = load_speecht5_hifigan(tmp_path / "hf")
    with torch.no_grad():
        expected = reference(random_mel).numpy()
        got = ours(random_mel[None])[0].numpy()
    assert got.shape == expected.shape == (40 * 256,)
    assert 0.05 < np.abs(expected).max() < 0.99  # a real signal, neither silent nor saturated
    assert np.abs(got - expected).max() < PARITY_TOL


def test_mel_statistics_are_used(speecht5_hifigan_dir, random_mel):
    """The stored mean / scale change the waveform (so dropping them would fail parity)."""
    ours = load_speecht5_hifigan(speecht5_hifigan_dir[0])
    with torch.no_grad():
        with_stats = ours(random_mel[None])
        ours.mel_mean.zero_()
        ours.mel_scale.fill_(1.0)
        without = ours(random_mel[None])
    assert (with_stats - without).abs().max() > 1e-2


def test_batch_of_mels_gives_batch_of_waveforms(speecht5_hifigan_dir, random_mel):
    ours = load_speecht5_hifigan(speecht5_hifigan_dir[0])
    batch = torch.stack([random_mel, random_mel.flip(0)])
    with torch.no_grad():
        out = ours(batch)
        single = ours(random_mel[None])
    assert out.shape == (2, 40 * 256)
    assert torch.allclose(out[0], single[0], atol=1e-6)


def test_save_and_load_round_trip(tmp_path, speecht5_hifigan_dir, random_mel):
    ours = load_speecht5_hifigan(speecht5_hifigan_dir[0])
    mel_cfg = MelConfig(fmin=0)
    save_hifigan(tmp_path / "converted", ours, mel_cfg)
    loaded, loaded_mel = load_hifigan(tmp_path / "converted")
    assert loaded_mel == mel_cfg
    with torch.no_grad():
        assert torch.equal(loaded(random_mel[None]), ours(random_mel[None]))


def test_default_config_has_speecht5_size():
    """SpeechT5's HiFi-GAN has 12.66M parameters (ANCHORS.md) and upsamples by the 256 hop."""
    generator = HiFiGANGenerator()
    n = sum(p.numel() for p in generator.parameters())
    assert round(n / 1e6, 2) == 12.66
    assert generator.config.hop_length == 256
