"""The sentence generators: determinism, held-out pools, variety, vocabulary."""
import re
import unicodedata

import pytest

from espnet_ext.synth.arabic import ArabicLexicon
from espnet_ext.synth.english import EnglishLexicon
from espnet_ext.synth.sentences import SentenceGenerator, role_of, role_of_split, sentence_key
from espnet_ext.text.buckwalter import from_buckwalter, to_buckwalter


@pytest.fixture(scope="module")
def english_train():
    return SentenceGenerator("en", seed=0).sentences(3000, "train", stream="a")


def test_same_seed_same_sentences_other_seed_other_sentences():
    first = SentenceGenerator("en", seed=7).sentences(50, "train", stream="x")
    again = SentenceGenerator("en", seed=7).sentences(50, "train", stream="x")
    other = SentenceGenerator("en", seed=8).sentences(50, "train", stream="x")
    assert first == again
    assert len({s.text for s in first} & {s.text for s in other}) < 5


def test_train_and_test_sentences_are_disjoint_across_seeds_and_generators(english_train):
    test = SentenceGenerator("en", seed=1).sentences(300, "test", stream="test-clean")
    dev = SentenceGenerator("en", seed=2).sentences(300, "dev", stream="dev-clean")
    train_keys = {sentence_key(s.text, "en") for s in english_train}
    test_keys = {sentence_key(s.text, "en") for s in test}
    dev_keys = {sentence_key(s.text, "en") for s in dev}
    assert not train_keys & test_keys and not train_keys & dev_keys and not dev_keys & test_keys
    assert {role_of(s.text, "en") for s in test} == {"test"}
    assert {role_of(s.text, "en") for s in english_train} == {"train"}


def test_one_generator_never_repeats_a_sentence_across_calls():
    gen = SentenceGenerator("en", seed=0)
    a = gen.sentences(200, "train", stream="spk1")
    b = gen.sentences(200, "train", stream="spk1")  # same stream: must still be new sentences
    assert not {s.text for s in a} & {s.text for s in b}


def test_thousands_of_distinct_english_sentences_with_thousands_of_words(english_train):
    assert len({sentence_key(s.text, "en") for s in english_train}) == 3000
    words = {w for s in english_train for w in sentence_key(s.text, "en").split()}
    assert len(words) > 2500
    assert all(len(sentence_key(s.text, "en").split()) >= 3 for s in english_train)
    assert all(s.text.isascii() and s.raw.isascii() for s in english_train)  # LibriSpeech is A-Z '


def test_english_raw_has_digits_and_abbreviations_that_the_spoken_text_spells_out(english_train):
    differing = [s for s in english_train if s.raw != s.text]
    assert len(differing) > 150
    assert not any(re.search(r"\d", s.text) for s in english_train)
    assert any(re.search(r"\d", s.raw) for s in differing)
    assert any("Mr." in s.raw and "Mister" in s.text for s in differing)


def test_arabic_sentences_distinct_diacritised_and_buckwalter_round_trip():
    sentences = SentenceGenerator("ar", seed=0).sentences(2000, "train", stream="a")
    assert len({s.text for s in sentences}) == 2000
    assert len({sentence_key(s.text, "ar") for s in sentences}) == 2000  # distinct even without diacritics
    words = {w for s in sentences for w in s.text.split()}
    assert len(words) > 2500
    marks = sum(unicodedata.category(c) == "Mn" for s in sentences for c in s.text)
    letters = sum(unicodedata.category(c) == "Lo" for s in sentences for c in s.text)
    assert marks > 0.6 * letters  # fully diacritised, as the Arabic Speech Corpus
    allowed = re.compile(r"^[\u0621-\u0652\u0670 ،؟.]+$")
    assert all(allowed.match(s.text) for s in sentences)
    assert all(from_buckwalter(to_buckwalter(s.text)) == s.text for s in sentences)


def test_vocabulary_sizes():
    en = EnglishLexicon()
    assert len(en.vocabulary) > 3000
    assert sum(len(v) for v in en.nouns.values()) > 700
    assert len({v.base for verbs in en.verbs.values() for v in verbs}) > 250
    assert len(en.first_names["male"]) > 150 and len(en.first_names["female"]) > 150
    ar = ArabicLexicon()
    assert len(ar.vocabulary) > 2000
    assert sum(len(v) for v in ar.nouns.values()) > 500


def test_every_arabic_lemma_carries_diacritics():
    ar = ArabicLexicon()
    lemmas = [n.singular for v in ar.nouns.values() for n in v] + [m for v in ar.adjectives.values() for m, _ in v]
    lemmas += [v.past for verbs in ar.verbs.values() for v in verbs] + [n.name for v in ar.names.values() for n in v]
    undiacritised = [w for w in lemmas if not any(unicodedata.category(c) == "Mn" for c in w)]
    assert undiacritised == []


def test_split_names_map_to_roles():
    assert [role_of_split(s) for s in ("train-clean-100", "train-other-500", "dev-clean", "test-other")] == [
        "train", "train", "dev", "test"]
    with pytest.raises(ValueError, match="validation"):
        role_of_split("validation")
