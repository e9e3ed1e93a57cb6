"""Fixtures for vocoder tests: small random SpeechT5 HiFi-GANs saved the Hugging Face way."""
import pytest
import torch

SMALL_HIFIGAN = dict(
    upsample_initial_channel=32,
    upsample_rates=[4, 4, 4, 4],
    upsample_kernel_sizes=[8, 8, 8, 8],
    resblock_kernel_sizes=[3, 5],
    resblock_dilation_sizes=[[1, 3], [1, 2]],
)


def make_speecht5_hifigan(seed: int = 0, weight_norm: bool = False, normalize_before: bool = True, **config):
    """transformers' SpeechT5HifiGan with random weights and non-trivial mel mean / scale."""
    from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig

    torch.manual_seed(seed)
    model = SpeechT5HifiGan(SpeechT5HifiGanConfig(normalize_before=normalize_before, **{**SMALL_HIFIGAN, **config}))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.1)  # large enough to give a signal, small enough that tanh does not saturate
        model.mean.normal_(-4.0, 1.0)  # log10 mels sit around -4
        model.scale.uniform_(0.5, 2.0)
    if weight_norm:
        model.apply_weight_norm()
    return model.eval()


@pytest.fixture
def speecht5_hifigan():
    """The factory ``make_speecht5_hifigan(seed, weight_norm, normalize_before, **config)``."""
    return make_speecht5_hifigan


@pytest.fixture
def speecht5_hifigan_dir(tmp_path):
    """(HF directory, the transformers model it holds)."""
    model = make_speecht5_hifigan()
    model.save_pretrained(tmp_path / "hf_hifigan")
    return tmp_path / "hf_hifigan", model


@pytest.fixture
def random_mel():
    """A (T=40, 80) log10-mel-like array."""
    return torch.randn(40, 80, generator=torch.Generator().manual_seed(1)) - 4.0
