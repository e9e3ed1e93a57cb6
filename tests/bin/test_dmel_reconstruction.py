"""The reconstruction check (dmel_reconstruction) and score_dmel's helpers, on two espeak utterances
with a stand-in judge (the recipe test runs them with a trained ESPnet judge)."""
import json

import kaldiio
import numpy as np
import pytest
import soundfile as sf

from espnet_ext.bin import dmel_tokenize
from espnet_ext.bin.dmel_reconstruction import markdown_table, mel_and_dmel, reconstruction_check
from espnet_ext.bin.score_dmel import read_compare, tts_lines
from espnet_ext.evaluation.judge import judge_options
from espnet_ext.dmel.tokenizer import DMelTokenizer
from espnet_ext.evaluation.judge import CallableJudge

TEXTS = {"spk1-u1": "open the door", "spk1-u2": "a cat sat", "spk2-u1": "hello there"}


@pytest.fixture(scope="module")
def data(espeak_speech, tmp_path_factory):
    """A dump dir with wav.scp and text, and 80 Hz tokens from dmel_tokenize (no 40 Hz ones)."""
    d = tmp_path_factory.mktemp("recon")
    for key, text in TEXTS.items():
        sf.write(d / f"{key}.wav", espeak_speech(text), 16000)
    (d / "wav.scp").write_text("".join(f"{k} {d / k}.wav\n" for k in TEXTS))
    (d / "text").write_text("".join(f"{k} {t}\n" for k, t in TEXTS.items()))
    dmel_tokenize.main(["--data", str(d), "--frame_rate_hz", "80", "--name", "dmel80"])
    return d


def echo_judge():
    """Transcribes every waveform as 'a cat sat': error rates are then fixed by the references."""
    return CallableJudge(lambda wav, fs: "a cat sat", "echo", round_trip=False)


def test_every_condition_is_judged_and_dmel_stays_within_half_a_bin_of_the_mel(data, tmp_path):
    result = reconstruction_check(data, echo_judge(), frame_rates=(40, 80), out=tmp_path, images=tmp_path)
    assert [(r["input"], r["frame_rate_hz"]) for r in result["rows"]] == [
        ("ground truth", None), ("mel", 40), ("dMel", 40), ("mel", 80), ("dMel", 80)]
    cers = {r["cer"] for r in result["rows"]}
    assert len(cers) == 1 and 0 < cers.pop() < 100  # the same stand-in transcript for every condition
    for row in result["rows"][1:]:
        assert row["vocoder"] == "griffin_lim" and row["mcd_dtw_db"] > 0 and row["mcd_mel80_dtw_db"] > 0
        assert row["utts"] == 3
    # Uniform bins 0.6 apart: the nearest centre is at most 0.3 away inside [-7, 2].
    tok = DMelTokenizer(frame_rate_hz=40)
    wav = sf.read(data / "spk1-u1.wav", dtype="float32")[0]
    mel, dmel = mel_and_dmel(wav, tok)
    inside = (mel >= -7) & (mel <= 2)
    assert float((mel - dmel).abs()[inside].max()) <= 0.3 + 1e-6
    for row in result["rows"]:
        if row["input"] == "dMel":
            assert 0.05 < row["quantization_error"] < 0.3
    assert json.loads((tmp_path / "score.json").read_text()) == result
    assert (tmp_path / f"reconstruction_{data.name}_80hz.png").exists()
    assert len(list((tmp_path / "wav" / "dMel_80hz_griffin_lim").glob("*.wav"))) == 3


def test_stored_tokens_are_the_ones_reconstructed(data, tmp_path):
    """dmel80.scp (stage 3) is what the 80 Hz row detokenizes: all-zero tokens there give the
    lowest bin everywhere, so the quantization error jumps far past half a bin."""
    broken = tmp_path / "data"
    broken.mkdir()
    for name in ("wav.scp", "text", "dmel80.yaml"):
        (broken / name).write_text((data / name).read_text())
    with kaldiio.WriteHelper(f"ark,scp:{broken / 'dmel80.ark'},{broken / 'dmel80.scp'}") as w:
        for key, tokens in kaldiio.load_scp(str(data / "dmel80.scp")).items():
            w(key, np.zeros_like(tokens))
    result = reconstruction_check(broken, echo_judge(), frame_rates=(80,))
    rows = {(r["input"], r["frame_rate_hz"]): r for r in result["rows"]}
    assert rows[("dMel", 80)]["quantization_error"] > 1.0


def test_a_fixed_random_sample_of_utterances(data):
    first = reconstruction_check(data, None, frame_rates=(40,), max_utts=2)
    again = reconstruction_check(data, None, frame_rates=(40,), max_utts=2)
    assert first["utts"] == 2 and first == again and first["judge"] == ""
    assert all(r["cer"] is None for r in first["rows"])  # no judge, no error rates
    lines = markdown_table(dict(first, rows=first["rows"] + [dict(first["rows"][1], input="mel", vocoder="pwg.pkl",
                                                                    skipped="trained for hop 256")]))
    assert lines[-1].startswith("| mel | 40 Hz | pwg.pkl | skipped: trained for hop 256 |")
    assert "| ground truth | - | - | - | - | - | - | - |" in lines


def test_judge_options_and_compared_rows(tmp_path):
    parsed = judge_options(["beam_size=5", "ctc_weight=0.3", "device=cpu"])
    assert parsed == {"beam_size": 5, "ctc_weight": 0.3, "device": "cpu"}
    with pytest.raises(SystemExit):
        judge_options(["beam_size"])
    score = tmp_path / "test_tts_test_clean" / "score.json"
    score.parent.mkdir()
    score.write_text(json.dumps({"utts": 40, "judge_synth": {"cer": 12.5, "wer": 30.0, "judge": "espnet:other"},
                                 "mcd_dtw_db": 7.25, "mcd_analysis": "world", "spk_sim_target": 0.8}))
    row = read_compare(f"STTATTS={score}")
    assert row["model"] == "STTATTS" and row["set"] == "test_tts_test_clean"
    lines = tts_lines([row], {}, judge_name="espnet:mine")
    assert lines[2] == ("| STTATTS (judge espnet:other) | test_tts_test_clean | 40 | 12.5 | 30.0 "
                        "| - | - | - | 7.25 | - | 0.800 |")
    # Scored before the WORLD MCD: its 80-band-mel MCD is another measure and is left out.
    older = json.loads(score.read_text())
    del older["mcd_analysis"]
    score.write_text(json.dumps(older))
    assert "mcd_dtw_db" not in read_compare(f"STTATTS={score}")
    assert tts_lines([row], {}, judge_name="espnet:other")[2].startswith("| STTATTS | test_tts_test_clean |")
