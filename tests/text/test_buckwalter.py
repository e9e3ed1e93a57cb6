from espnet_ext.text.buckwalter import BUCKWALTER_TO_ARABIC, from_buckwalter, to_buckwalter


def test_table_is_a_bijection_over_47_symbols():
    assert len(BUCKWALTER_TO_ARABIC) == 47
    assert len(set(BUCKWALTER_TO_ARABIC.values())) == 47


def test_round_trip_over_the_full_table_both_ways():
    bw = "".join(BUCKWALTER_TO_ARABIC)
    arabic = from_buckwalter(bw)
    assert to_buckwalter(arabic) == bw
    assert from_buckwalter(to_buckwalter(arabic)) == arabic


def test_known_word_converts_letter_by_letter():
    # "As-salamu" with shadda and damma: a real ASC-style diacritised transliteration.
    assert from_buckwalter("Als~alAmu") == "\u0627\u0644\u0633\u0651\u064e\u0644\u0627\u0645\u064f"
    assert to_buckwalter("\u0643\u062a\u0627\u0628") == "ktAb"


def test_characters_outside_the_table_pass_through():
    assert from_buckwalter("ktAb 12 .") == "\u0643\u062a\u0627\u0628 12 ."
