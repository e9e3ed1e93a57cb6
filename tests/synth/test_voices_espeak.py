"""Speakers (espeak-ng voices) and synthesis of one utterance."""
import numpy as np
import pytest

from espnet_ext.synth import espeak
from espnet_ext.synth.espeak import EspeakError, synthesize
from espnet_ext.synth.voices import HELDOUT_VARIANTS, TRAIN_VARIANTS, Speaker, draw_speakers


def test_held_out_variants_are_not_training_variants():
    assert not set(TRAIN_VARIANTS) & set(HELDOUT_VARIANTS)
    for pool in (TRAIN_VARIANTS, HELDOUT_VARIANTS):
        assert {"M", "F"} <= set(pool.values())


def test_draw_speakers_distinct_deterministic_and_role_aware():
    train = draw_speakers("en", "train", 12, seed=3)
    assert train == draw_speakers("en", "train", 12, seed=3)
    assert len(set(train)) == 12 and len({s.voice for s in train}) == 12
    assert [s.gender for s in train].count("F") == 6  # genders alternate
    test = draw_speakers("en", "test", 4, seed=3, exclude=train)
    assert all(s.voice.split("+")[1] in HELDOUT_VARIANTS for s in test)
    assert all(s.voice.split("+")[1] in TRAIN_VARIANTS for s in train)
    arabic = draw_speakers("ar", "train", 30, seed=0)  # more speakers than variants: pitch/speed differ
    assert len(set(arabic)) == 30 and all(s.voice.startswith("ar+") for s in arabic)


def test_synthesize_returns_float32_at_the_requested_rate(espeak_ng):
    speaker = Speaker("en-us+f3", 50, 160, "F")
    a16 = synthesize("The quick brown fox jumps over the lazy dog.", speaker, 16000)
    a48 = synthesize("The quick brown fox jumps over the lazy dog.", speaker, 48000)
    assert a16.dtype == np.float32 and a16.ndim == 1
    assert 1.5 < len(a16) / 16000 < 6.0
    assert abs(len(a48) / 48000 - len(a16) / 16000) < 0.01
    assert np.abs(a16).max() > 0.1
    faster = synthesize("The quick brown fox jumps over the lazy dog.", Speaker("en-us+f3", 50, 220, "F"), 16000)
    assert len(faster) < 0.85 * len(a16)  # the speed of a speaker is applied


def test_text_starting_with_a_dash_is_spoken_not_parsed_as_an_option(espeak_ng):
    audio = synthesize("-v is not an option here.", Speaker("en-us", 50, 175, "M"), 16000)
    assert len(audio) > 8000


def test_missing_espeak_gives_an_install_hint(monkeypatch):
    monkeypatch.setattr(espeak.shutil, "which", lambda name: None)
    with pytest.raises(EspeakError, match="apt-get install espeak-ng"):
        synthesize("hello", Speaker("en-us", 50, 175, "M"))
