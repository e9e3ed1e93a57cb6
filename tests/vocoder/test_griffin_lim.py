"""Griffin-Lim inverts our log10 mel: the mel of its output is close to the input mel."""
import numpy as np
import pytest

from espnet_ext.vocoder import GriffinLimVocoder, MelConfig, log_mel

SENTENCE = "The quick brown fox jumps over the lazy dog."


def mel_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute log10 difference over the common frames (1.0 = a factor of 10)."""
    n = min(len(a), len(b))
    return float(np.abs(a[:n] - b[:n]).mean())


@pytest.mark.parametrize(
    "hop,win", [(256, 1024), (400, 800), (200, 800)], ids=["speecht5-hop256", "dmel-40Hz", "dmel-80Hz"]
)
def test_round_trip_reproduces_the_mel(espeak_speech, hop, win):
    cfg = MelConfig(hop_length=hop, win_length=win)
    wav = espeak_speech(SENTENCE)
    mel = log_mel(wav, cfg)
    out = GriffinLimVocoder(cfg)(mel)
    assert out.dtype == np.float32 and out.shape == (len(mel) * hop,)
    rebuilt = log_mel(out, cfg)
    noise = log_mel(np.random.default_rng(0).normal(0, 0.05, len(wav)).astype(np.float32), cfg)
    # Measured: about 0.05-0.08; white noise of similar level is about 1.3 away.
    assert mel_distance(mel, rebuilt) < 0.15
    assert mel_distance(mel, noise) > 1.0


def test_more_iterations_fit_better(espeak_speech):
    mel = log_mel(espeak_speech(SENTENCE))
    errors = [mel_distance(mel, log_mel(GriffinLimVocoder(n_iter=n)(mel))) for n in (1, 32)]
    assert errors[1] < errors[0]


def test_same_seed_same_waveform(espeak_speech):
    mel = log_mel(espeak_speech("Hello there."))
    assert np.array_equal(GriffinLimVocoder()(mel), GriffinLimVocoder()(mel))


def test_wrong_mel_shape_is_rejected():
    with pytest.raises(ValueError, match=r"\(T, 80\)"):
        GriffinLimVocoder()(np.zeros((10, 40), dtype=np.float32))
