"""Speaker similarity (resemblyzer d-vectors): known orderings on espeak-ng voices."""
import pytest

from espnet_ext.evaluation.speaker_similarity import cosine_similarity, speaker_embedding, speaker_similarity

SENTENCE_A = "Please call Stella and ask her to bring these things with her from the store."
SENTENCE_B = "The birch canoe slid on the smooth planks near the old harbour."


def test_identical_audio_is_one(espeak_speech):
    wav = espeak_speech(SENTENCE_A, voice="en-us+m3")
    assert speaker_similarity(wav, wav.copy(), 16000) == pytest.approx(1.0, abs=1e-5)


def test_same_voice_other_sentence_beats_other_voice_same_sentence(espeak_speech):
    m3_a = espeak_speech(SENTENCE_A, voice="en-us+m3")
    m3_b = espeak_speech(SENTENCE_B, voice="en-us+m3")
    f4_a = espeak_speech(SENTENCE_A, voice="en-us+f4")
    same_voice = speaker_similarity(m3_a, m3_b, 16000)
    other_voice = speaker_similarity(m3_a, f4_a, 16000)
    # Measured: about 0.88 vs 0.60.
    assert same_voice > other_voice + 0.1
    assert speaker_similarity(f4_a, m3_a, 16000) == pytest.approx(other_voice, abs=1e-6)


def test_embeddings_are_unit_dvectors_at_any_rate(espeak_speech):
    emb = speaker_embedding(espeak_speech(SENTENCE_B, fs=22050), 22050)
    assert emb.shape == (256,)
    assert cosine_similarity(emb, emb) == pytest.approx(1.0, abs=1e-6)
    assert float((emb**2).sum()) == pytest.approx(1.0, abs=1e-4)
