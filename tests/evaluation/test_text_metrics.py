"""WER / CER on hand-counted cases."""
import pytest

from espnet_ext.evaluation.text_metrics import char_error_rate, score_transcripts, word_error_rate
from espnet_ext.text import normalize_english


def test_one_deletion_in_six_words():
    r = word_error_rate("the cat sat on the mat", "the cat sat on mat")
    assert (r.substitutions, r.deletions, r.insertions, r.ref_length) == (0, 1, 0, 6)
    assert r.percent == pytest.approx(100 / 6)


def test_errors_are_pooled_over_utterances_not_averaged():
    # 1 substitution in 2 words + 1 insertion on 4 words = 2 errors / 6 words (mean of rates: 37.5%).
    r = word_error_rate(["a b", "c d e f"], ["a x", "c d e f g"])
    assert (r.substitutions, r.insertions, r.errors, r.ref_length) == (1, 1, 2, 6)
    assert r.rate == pytest.approx(2 / 6)


def test_character_errors_count_letters_and_spaces():
    r = char_error_rate("abc de", "axc de")
    assert (r.substitutions, r.ref_length) == (1, 6)
    assert char_error_rate("ab", "a b").insertions == 1  # the space is a character


def test_normaliser_is_applied_to_both_sides():
    ref, hyp = "Hello, World! It's fine.", "hello world it's fine"
    assert word_error_rate(ref, hyp).errors == 4  # case and punctuation make every word differ
    assert word_error_rate(ref, hyp, normalizer=normalize_english).errors == 0
    assert char_error_rate(ref, hyp, normalizer=normalize_english).rate == 0.0


def test_extra_spaces_do_not_count():
    assert word_error_rate("a  b ", " a b").errors == 0


def test_missing_hypothesis_scores_as_deletions_and_is_listed():
    scores = score_transcripts({"u1": "a b", "u2": "c d e"}, {"u1": "a b"})
    assert scores["wer"].deletions == 3 and scores["wer"].missing == ["u2"]
    assert scores["cer"].missing == ["u2"]


def test_hypothesis_without_reference_is_an_error():
    with pytest.raises(KeyError, match="no reference"):
        score_transcripts({"u1": "a"}, {"u1": "a", "u9": "b"})


def test_empty_references():
    assert word_error_rate("", "").rate == 0.0
    assert word_error_rate("", "a").rate == float("inf")
    with pytest.raises(ValueError):
        word_error_rate(["a", "b"], ["a"])
