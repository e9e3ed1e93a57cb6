"""Morphology and text rules the grammars and layouts rely on."""
import random

from espnet_ext.synth import numbers
from espnet_ext.synth.arabic import decline, definite, feminine_past, pausal, present_person, subjunctive
from espnet_ext.synth.arabic_phones import asc_phones
from espnet_ext.synth.english import EnglishGrammar, article, parse_verb, plural
from espnet_ext.synth.layouts.arabic_speech_corpus import asc_buckwalter, lab_text
from espnet_ext.synth.layouts.librispeech import transcript
from espnet_ext.text.buckwalter import from_buckwalter as ar, to_buckwalter as bw


def test_english_numbers_as_read_aloud():
    assert numbers.cardinal(342) == "three hundred and forty-two"
    assert numbers.cardinal(20000) == "twenty thousand"
    assert [numbers.ordinal(n) for n in (1, 12, 21, 40)] == ["first", "twelfth", "twenty-first", "fortieth"]
    assert [numbers.ordinal_suffix(n) for n in (1, 2, 3, 11, 13, 22)] == ["1st", "2nd", "3rd", "11th", "13th", "22nd"]
    assert [numbers.year(y) for y in (1887, 1905, 1900, 2008)] == [
        "eighteen eighty-seven", "nineteen oh five", "nineteen hundred", "two thousand and eight"]
    assert numbers.clock(9, 5) == "nine oh five" and numbers.clock(6, 0) == "six o'clock"


def test_english_morphology():
    assert [plural(n) for n in ("box", "city", "day", "bench", "cat")] == ["boxes", "cities", "days", "benches", "cats"]
    stop, eat, tie = parse_verb("stop/stopped"), parse_verb("eat/ate/eaten"), parse_verb("tie")
    assert (stop.third, stop.past, stop.ing) == ("stops", "stopped", "stopping")
    assert (eat.past, eat.participle, eat.ing) == ("ate", "eaten", "eating")
    assert (tie.past, tie.ing) == ("tied", "tying")
    assert [article(w) for w in ("apple", "hour", "useful", "umbrella", "dog")] == ["an", "an", "a", "an", "a"]


def test_librispeech_transcript_is_uppercase_words_and_apostrophes():
    assert transcript('"It\'s twenty-one o\'clock," said Mister Gray.') == "IT'S TWENTY ONE O'CLOCK SAID MISTER GRAY"
    assert transcript("'Tis the dogs' day!") == "TIS THE DOGS DAY"


def test_english_sentences_start_with_a_capital_and_end_with_punctuation():
    g, rng = EnglishGrammar(), random.Random(0)
    for _ in range(300):
        s = g.sentence(rng)
        first = s.text.lstrip('"')[0]
        assert first.isupper() and s.text[-1] in '.?!"'


def test_arabic_case_endings_article_and_pausal_forms():
    assert bw(definite(ar("bayot"))) == "Alobayot"  # moon letter keeps al-
    assert bw(definite(ar("$amos"))) == "Al$~amos"  # sun letter assimilates
    assert bw(decline(ar("kitaAb"), "acc", False)) == "kitaAbFA"
    assert bw(decline(ar("madiynap"), "acc", False)) == "madiynapF"  # no alif after taa marbuuta
    assert bw(decline(ar("madaAris"), "gen", False, "d")) == "madaArisa"  # diptote genitive
    assert bw(decline(ar("Alomudun"), "gen", True)) == "Alomuduni"
    assert bw(decline(ar("muEal~imuwna"), "acc", True)) == "muEal~imiyna"  # sound masculine plural
    assert bw(decline(ar("kalimaAt"), "acc", True)) == "kalimaAti"  # sound feminine plural
    assert bw(pausal(ar("Alobayoti"))) == "Alobayoto"
    assert bw(pausal(ar("kitaAbFA"))) == "kitaAbaA"
    assert bw(feminine_past(ar("kataba"))) == "katabato" and bw(feminine_past(ar("ma$aY"))) == "ma$ato"
    assert bw(present_person(ar("yakotubu"), ar("t"))) == "takotubu"
    assert bw(subjunctive(ar("yakotubu"))) == "yakotuba" and bw(subjunctive(ar("yamo$iy"))) == "yamo$iya"


def test_arabic_speech_corpus_transliteration_and_lab():
    text = ar("qaAla Alv~aEolabu <in~a Al*~i}oba ja$iEo") + "، " + ar("wa*ahaba") + "."
    assert asc_buckwalter(text) == "qaAla Al^~aEolabu <in~a Al*~i}oba ja$iEo - wa*ahaba"
    assert lab_text("Al~a*iy") == "\ufeffAl~aTHiy"


def test_asc_phones_follow_the_corpus_conventions():
    phones = asc_phones("waraj~aHa Alt~aqoriyru - Aloqamaru")
    assert phones == "sil w a r a' jj a H a tt A q r ii0' r u0 sil < a l q A' m a r u0 sil"
