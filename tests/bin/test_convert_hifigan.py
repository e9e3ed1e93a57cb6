"""python -m espnet_ext.bin.convert_hifigan: waveform parity with transformers' SpeechT5HifiGan."""
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml

from espnet_ext.bin.convert_hifigan import main
from espnet_ext.vocoder import load_vocoder


@pytest.fixture
def hf_hifigan(tmp_path):
    """A small random transformers SpeechT5HifiGan (hop 4*4*4*4 = 256) saved as an HF directory."""
    from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig

    torch.manual_seed(3)
    config = SpeechT5HifiGanConfig(
        upsample_initial_channel=32, resblock_kernel_sizes=[3, 7], resblock_dilation_sizes=[[1, 3, 5]] * 2
    )
    model = SpeechT5HifiGan(config)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.1)
        model.mean.normal_(-4.0, 1.0)
        model.scale.uniform_(0.5, 2.0)
    model.save_pretrained(tmp_path / "speecht5_hifigan")
    return tmp_path / "speecht5_hifigan", model.eval()


def test_converted_vocoder_matches_transformers(tmp_path, hf_hifigan):
    src, reference = hf_hifigan
    assert main(["--src", str(src), "--out", str(tmp_path / "out")]) == 0
    config = yaml.safe_load((tmp_path / "out" / "config.yaml").read_text())
    assert config["vocoder_type"] == "hifigan" and config["mel"]["hop_length"] == 256 and config["mel"]["fmax"] == 7600
    mel = torch.randn(50, 80, generator=torch.Generator().manual_seed(0)) - 4.0
    with torch.no_grad():
        expected = reference(mel).numpy()
    got = load_vocoder(tmp_path / "out")(mel)
    assert 0.05 < np.abs(expected).max() < 0.99
    assert np.abs(got - expected).max() < 1e-4


def test_hop_that_the_model_cannot_produce_is_refused(tmp_path, hf_hifigan):
    with pytest.raises(ValueError, match="hop_length"):
        main(["--src", str(hf_hifigan[0]), "--out", str(tmp_path / "out"), "--hop_length", "400"])
    assert not (tmp_path / "out").exists()


def test_runs_as_a_module():
    out = subprocess.run(
        [sys.executable, "-m", "espnet_ext.bin.convert_hifigan", "--help"], capture_output=True, text=True, check=True
    )
    assert "--src" in out.stdout and "--out" in out.stdout
