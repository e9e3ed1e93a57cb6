"""The listening page's pieces; the whole page is built and opened in Chromium by the recipe test
(tests/recipes/test_sttatts_recipes.py)."""
from pathlib import Path

from espnet_ext.evaluation.samples_page import (System, display_path, marked_transcript, normalizer, resolve,
                                                select_utterances, unique_labels)
from espnet_ext.evaluation.utterance_scores import add_transcripts, read_utt_scores, write_utt_scores


def test_errors_are_marked_as_substitution_insertion_and_deletion():
    marked = marked_transcript("the cat sat on a mat", "the bat sat on a mat today", normalizer("en"))
    assert marked == ('the <span class="sub" title="reference: cat">bat</span> sat on a mat '
                      '<ins title="inserted">today</ins>')
    assert marked_transcript("one two three", "one three") == 'one <del title="deleted">two</del> three'
    assert marked_transcript("one two", "") == "<del>one two</del>"


def test_transcripts_are_html_escaped_and_arabic_is_kept():
    assert marked_transcript("a <b> c", "a <b> c") == "a &lt;b&gt; c"
    assert marked_transcript("ok", 'ok "><script>') == 'ok <ins title="inserted">&quot;&gt;&lt;script&gt;</ins>'
    arabic = "ذهب الولد"
    assert marked_transcript(arabic, arabic, normalizer("ar")) == arabic


def test_selection_is_sorted_with_the_preferred_first_and_does_not_depend_on_order():
    ids = ["u5", "u1", "u3", "u2", "u4"]
    assert select_utterances(ids, 3) == ["u1", "u2", "u3"]
    assert select_utterances(reversed(ids), 3, preferred=["u4", "x9"]) == ["u4", "u1", "u2"]
    assert select_utterances(ids, 8) == ["u1", "u2", "u3", "u4", "u5"]


def test_systems_are_labelled_by_the_spec_or_the_folder_above():
    assert System.parse("long run=exp/a/decode_x") == System("long run", Path("exp/a/decode_x"))
    assert System.parse("exp/sttatts_b/decode_y").label == "sttatts_b"
    assert System("long run/2", Path(".")).slug == "long_run_2"
    assert display_path(Path("/home/me/exp/a/decode_x")) == ".../exp/a/decode_x"
    # the same label twice (e.g. --compare of a same-named exp dir) gets its own column and audio folder
    labels = [s.label for s in unique_labels([System("a", Path("x")), System("a", Path("y")), System("b", Path("z"))])]
    assert labels == ["a", "a (2)", "b"]


def test_scp_paths_of_another_recipe_folder_resolve_from_its_decode_dir(tmp_path, monkeypatch):
    other = tmp_path / "dmel1"
    wav = other / "exp/x/decode/test/wav/u1.wav"
    wav.parent.mkdir(parents=True)
    wav.write_bytes(b"")
    monkeypatch.chdir(tmp_path)  # the page is built from a folder that is not the other recipe's
    assert resolve("exp/x/decode/test/wav/u1.wav", other / "exp/x/decode/test") == wav


def test_utterance_scores_round_trip_with_per_utterance_error_rates(tmp_path):
    per_utt = {}
    add_transcripts(per_utt, "judge_synth_", {"u1": "abcd", "u2": "ab cd"}, {"u1": "abxd", "u2": "ab cd"})
    write_utt_scores(tmp_path, per_utt)
    scores = read_utt_scores(tmp_path)
    assert scores["u1"]["judge_synth_cer"] == 25.0 and scores["u1"]["judge_synth_wer"] == 100.0
    assert scores["u2"]["judge_synth_cer"] == 0.0 and scores["u2"]["judge_synth_hyp"] == "ab cd"
    assert read_utt_scores(tmp_path / "nothing") == {}
