"""load_vocoder returns a working vocoder for every kind of file the recipes accept."""
import numpy as np
import pytest
import torch
import yaml

from espnet_ext.bin.convert_hifigan import main as convert_main
from espnet_ext.vocoder import GriffinLimVocoder, MelConfig, load_vocoder
from espnet_ext.vocoder.hifigan import HiFiGANVocoder
from espnet_ext.vocoder.parallel_wavegan import ParallelWaveGANVocoder, import_parallel_wavegan, pwg_mel_settings


def test_none_gives_griffin_lim_with_the_requested_settings():
    vocoder = load_vocoder(None, hop_length=400, win_length=800)
    assert isinstance(vocoder, GriffinLimVocoder)
    assert vocoder.mel == MelConfig(hop_length=400, win_length=800)
    assert isinstance(load_vocoder("griffin_lim"), GriffinLimVocoder)


def test_converted_hifigan_dir_and_its_model_file(tmp_path, speecht5_hifigan_dir, random_mel):
    hf_dir, reference = speecht5_hifigan_dir
    convert_main(["--src", str(hf_dir), "--out", str(tmp_path / "voc")])
    with torch.no_grad():
        expected = reference(random_mel).numpy()
    for path in (tmp_path / "voc", tmp_path / "voc" / "model.pth"):
        vocoder = load_vocoder(str(path))
        assert isinstance(vocoder, HiFiGANVocoder)
        out = vocoder(random_mel.numpy())  # numpy input as well as torch
        assert out.dtype == np.float32 and out.shape == (40 * 256,)
        assert np.abs(out - expected).max() < 1e-4


def test_hugging_face_dir_is_converted_on_the_fly(speecht5_hifigan_dir, random_mel):
    hf_dir, reference = speecht5_hifigan_dir
    with torch.no_grad():
        expected = reference(random_mel).numpy()
    assert np.abs(load_vocoder(hf_dir)(random_mel) - expected).max() < 1e-4


def test_hop_mismatch_is_an_error(tmp_path, speecht5_hifigan_dir):
    convert_main(["--src", str(speecht5_hifigan_dir[0]), "--out", str(tmp_path / "voc")])
    with pytest.raises(ValueError, match="hop_length"):
        load_vocoder(tmp_path / "voc", hop_length=400)


def _write_pwg_checkpoint(folder, mel: MelConfig, stats=None):
    """A parallel_wavegan HiFiGAN checkpoint + config.yml as its trainer writes them (random weights)."""
    import_parallel_wavegan()
    from parallel_wavegan.models import HiFiGANGenerator

    params = dict(
        in_channels=80, out_channels=1, channels=16, upsample_scales=[8, 8, 4], upsample_kernel_sizes=[16, 16, 8],
        resblock_kernel_sizes=[3], resblock_dilations=[[1]],
    )  # fmt: skip
    torch.manual_seed(0)
    generator = HiFiGANGenerator(**params)
    folder.mkdir(parents=True)
    torch.save({"model": {"generator": generator.state_dict()}, "steps": 7}, folder / "checkpoint-7steps.pkl")
    config = {"generator_type": "HiFiGANGenerator", "generator_params": params, "format": "npy"}
    config.update(pwg_mel_settings(mel))
    (folder / "config.yml").write_text(yaml.safe_dump(config))
    if stats is not None:
        np.save(folder / "stats.npy", stats)
        generator.register_stats(str(folder / "stats.npy"))
    generator.remove_weight_norm()
    return generator.eval()


@pytest.mark.parametrize("with_stats", [False, True], ids=["raw-mel", "normalised-mel"])
def test_parallel_wavegan_checkpoint(tmp_path, random_mel, with_stats):
    stats = np.stack([np.full(80, -4.0), np.full(80, 2.0)]).astype(np.float32) if with_stats else None
    generator = _write_pwg_checkpoint(tmp_path / "exp", MelConfig(), stats)
    with torch.no_grad():
        expected = generator.inference(random_mel, normalize_before=with_stats).reshape(-1).numpy()
    for path in (tmp_path / "exp" / "checkpoint-7steps.pkl", tmp_path / "exp"):
        vocoder = load_vocoder(str(path))
        assert isinstance(vocoder, ParallelWaveGANVocoder) and vocoder.normalize == with_stats
        assert np.abs(vocoder(random_mel) - np.clip(expected, -1, 1)).max() < 1e-5


def test_parallel_wavegan_checkpoint_at_another_rate_is_refused(tmp_path):
    _write_pwg_checkpoint(tmp_path / "exp", MelConfig(fs=22050))
    with pytest.raises(ValueError, match="fs"):
        load_vocoder(tmp_path / "exp")


def test_unknown_path_is_an_error(tmp_path):
    (tmp_path / "x.txt").write_text("not a vocoder")
    with pytest.raises(ValueError, match="not a vocoder"):
        load_vocoder(tmp_path / "x.txt")
