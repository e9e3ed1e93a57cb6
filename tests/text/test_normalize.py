import pytest

from espnet_ext.text.normalize import normalize, normalize_arabic, normalize_english, remove_arabic_diacritics


def test_english_lowercases_and_removes_punctuation_keeping_inner_apostrophes():
    assert normalize_english("Hello, World! It's 'quoted'.") == "hello world it's quoted"


def test_english_can_drop_apostrophes():
    assert normalize_english("It's Tom's.", keep_apostrophes=False) == "its toms"


def test_english_collapses_whitespace_and_dashes():
    assert normalize_english("  one -- two\tthree ") == "one two three"


def test_arabic_removes_diacritics_and_maps_digits():
    text = "السَّلامُ عَلَيْكُم، ١٢٣!"
    assert normalize_arabic(text) == "السلام عليكم 123"
    assert normalize_arabic(text, remove_diacritics=False) == "السَّلامُ عَلَيْكُم 123"


def test_arabic_keeps_at_and_percent():
    assert normalize_arabic("٥٠% @ منزل.") == "50% @ منزل"


def test_diacritic_removal_keeps_letters_only():
    assert remove_arabic_diacritics("كِتَابٌ") == "كتاب"


def test_dispatch_rejects_unknown_language():
    assert normalize("A b.", "en") == "a b"
    with pytest.raises(ValueError, match="fr"):
        normalize("x", "fr")
