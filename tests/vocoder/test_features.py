"""Our log10 mel is the SpeechT5 anchor's (transformers' SpeechT5FeatureExtractor) where it matters."""
import numpy as np

from espnet_ext.vocoder import MelConfig, log_mel


def test_matches_speecht5_feature_extractor_above_the_floor(espeak_speech):
    from transformers import SpeechT5FeatureExtractor

    wav = espeak_speech("Speech synthesis needs matching features.")
    anchor = SpeechT5FeatureExtractor()(audio_target=wav, sampling_rate=16000, return_tensors="np")["input_values"][0]
    ours = log_mel(wav)
    assert ours.shape == anchor.shape == (len(wav) // 256 + 1, 80)
    audible = anchor > -4.5  # far above ESPnet's magnitude floor (1e-5 per STFT bin)
    assert audible.mean() > 0.5
    assert np.abs(ours[audible] - anchor[audible]).max() < 1e-4


def test_digital_silence_sits_on_espnet_floor():
    silence = log_mel(np.zeros(16000, dtype=np.float32))
    assert -6.3 < silence.min() and silence.max() < -6.1  # log10 of (mel weights x 1e-5)


def test_frame_count_follows_the_hop():
    wav = np.zeros(16000, dtype=np.float32)
    assert log_mel(wav, MelConfig(hop_length=400, win_length=800)).shape == (41, 80)
    assert log_mel(wav, MelConfig(hop_length=200, win_length=800)).shape == (81, 80)
