"""score_sttatts (stage 7) and score_dmel on hand-made test sets whose figures are known by hand.

ASR: references "The cat sat." / "A dog" / "hello", hypotheses "the bat sat" / "a dog" / none.
Normalised (lower case, no punctuation): 1 + 0 + 1 word errors in 3 + 2 + 1 words (WER 2/6), and
1 + 0 + 5 character errors in 11 + 5 + 5 characters, spaces included (CER 6/21); the missing
hypothesis counts as empty. TTS: three utterances whose generated / reference lengths are 1.0,
1.5 and 0.9 (two within +-15 %), the stop token fired for one, and the generated audio is the
recording itself (MCD 0, speaker similarity 1).
"""
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet_ext.bin import score_dmel, score_sttatts

FS, HOP = 16000, 256  # MelConfig's hop: reference frames = samples // 256 + 1
WER, CER = 100 * 2 / 6, 100 * 6 / 21
REFS = {"u1": "The cat sat.", "u2": "A dog", "u3": "hello"}
HYPS = {"u1": "the bat sat", "u2": "a dog"}
# per TTS utterance: reference samples (k x 256: k + 1 frames), generated frames, stop fired, ended with eos
TTS = {"t1": (62 * HOP, 63, "1", "true"), "t2": (49 * HOP, 75, "0", "false"), "t3": (39 * HOP, 36, "0", "false")}
LENGTH_RATIOS = [63 / 63, 75 / 50, 36 / 40]
STOP_PCT, WITHIN_PCT = 100 / 3, 200 / 3


def kv(path: Path, rows: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k} {v}\n" for k, v in rows.items()), encoding="utf-8")


def asr_set(dump: Path, hyp_dir: Path) -> None:
    kv(dump / "text", REFS)
    kv(dump / "utt2category", {k: "asr" for k in REFS})
    kv(hyp_dir / "1best_recog" / "text", HYPS)


def recordings(folder: Path) -> dict:
    """{utt: wav path} of a voiced test signal (a 120 Hz pulse train with noise) per TTS utterance."""
    rng = np.random.default_rng(0)
    paths = {}
    for k, (n, *_) in TTS.items():
        t = np.arange(n) / FS
        wav = 0.3 * np.sign(np.sin(2 * np.pi * 120 * t)) * np.exp(-((t * 120) % 1) * 8) + 0.01 * rng.standard_normal(n)
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"{k}.wav", wav.astype(np.float32), FS)
        paths[k] = str(folder / f"{k}.wav")
    return paths


def test_score_sttatts_gives_the_hand_counted_figures_in_score_json_and_results_md(tmp_path):
    dump, decode, exp = tmp_path / "dump", tmp_path / "exp/decode", tmp_path / "exp"
    asr_set(dump / "test_asr", decode / "test_asr")
    wavs = recordings(tmp_path / "wav")
    kv(dump / "test_tts" / "text", {k: "some words" for k in TTS})
    kv(dump / "test_tts" / "utt2category", {k: "tts" for k in TTS})
    kv(dump / "test_tts" / "wav.scp", wavs)
    kv(decode / "test_tts" / "wav.scp", wavs)  # the recording itself as the synthesis
    kv(decode / "test_tts" / "speech_shape", {k: f"{frames},80" for k, (_, frames, _, _) in TTS.items()})
    kv(decode / "test_tts" / "stop_fired", {k: fired for k, (_, _, fired, _) in TTS.items()})
    assert score_sttatts.main(["--exp_dir", str(exp), "--decode_dir", str(decode), "--dump_dir", str(dump),
                               "--test_sets", "test_asr", "test_tts"]) == 0

    asr = json.loads((decode / "test_asr/score.json").read_text())
    assert asr["utts"] == 3 and asr["task"] == "asr"
    assert asr["default"]["wer"] == pytest.approx(WER) and asr["default"]["cer"] == pytest.approx(CER)
    tts = json.loads((decode / "test_tts/score.json").read_text())
    assert tts["utts"] == 3 and "judge_synth" not in tts  # no judge given
    assert tts["stop_fired_pct"] == pytest.approx(STOP_PCT)
    assert tts["length_ratio_mean"] == pytest.approx(np.mean(LENGTH_RATIOS))
    assert tts["length_within_15pct"] == pytest.approx(WITHIN_PCT)
    assert tts["mcd_dtw_db"] == pytest.approx(0.0, abs=1e-9) and tts["spk_sim_target"] == pytest.approx(1.0, abs=1e-5)
    results = (exp / "RESULTS.md").read_text()
    assert "| test_asr | 3 | default | 33.3 | 28.6 |" in results
    assert "| test_tts | 3 | - | - | - | - | 33.3 | 66.7 | 1.13 | 0.00 | 1.000 |" in results


def test_score_sttatts_scores_arabic_with_and_without_diacritics(tmp_path):
    # "كَتَبَ" (kataba, 3 letters + 3 fathas) read as "كتب": no error without diacritics, 3 deleted
    # characters of 6 with them (one word: WER 100 / 0)
    dump, decode = tmp_path / "dump/test_asr", tmp_path / "decode/test_asr"
    kv(dump / "text", {"a1": "كَتَبَ"})
    kv(dump / "utt2category", {"a1": "asr"})
    kv(decode / "1best_recog" / "text", {"a1": "كتب"})
    r = score_sttatts.score_asr(dump, decode, "ar")
    assert r["with diacritics"] == {"wer": 100.0, "cer": pytest.approx(50.0)}
    assert r["without diacritics"] == {"wer": 0.0, "cer": 0.0}


def test_score_dmel_gives_the_hand_counted_asr_figures_in_score_json_and_both_results_md(tmp_path):
    dump, exp = tmp_path / "dump", tmp_path / "exp"
    asr_set(dump / "test_asr", exp / "asr/dec/test_asr")
    assert score_dmel.main(["--exp_dir", str(exp), "--jobs", "asr", "--decode_name", "dec", "--dump_dir", str(dump),
                            "--test_sets", "test_asr"]) == 0
    r = json.loads((exp / "asr/dec/test_asr/score.json").read_text())
    assert r["utts"] == 3 and r["default"]["wer"] == pytest.approx(WER) and r["default"]["cer"] == pytest.approx(CER)
    for results in (exp / "RESULTS.md", exp / "asr/RESULTS.md"):
        assert "| asr | test_asr | 3 | 33.3 | 28.6 |" in results.read_text()


def test_score_dmel_tts_figures_eos_and_length_from_the_samples(tmp_path):
    dump, decode = tmp_path / "dump/test_tts", tmp_path / "decode/test_tts"
    real = recordings(tmp_path / "real")
    gen = {}
    for (k, path), ratio in zip(real.items(), (1.0, 1.5, 0.9)):
        wav, _ = sf.read(path, dtype="float32")
        n = int(round(len(wav) * ratio))
        out = np.concatenate([wav, np.zeros(max(0, n - len(wav)), np.float32)])[:n]
        (tmp_path / "gen").mkdir(exist_ok=True)
        sf.write(tmp_path / "gen" / f"{k}.wav", out, FS)
        gen[k] = str(tmp_path / "gen" / f"{k}.wav")
    kv(dump / "text", {k: "some words" for k in TTS})
    kv(dump / "wav.scp", real)
    kv(decode / "wav.scp", gen)
    kv(decode / "ended", {k: ended for k, (_, _, _, ended) in TTS.items()})
    r = score_dmel.score_tts(dump, decode, "en", judge=None, images=None, label="tts")
    assert r["utts"] == 3 and r["eos_pct"] == pytest.approx(STOP_PCT)
    assert r["length_ratio_mean"] == pytest.approx(np.mean([1.0, 1.5, 0.9]), abs=1e-4)
    assert r["length_within_15pct"] == pytest.approx(WITHIN_PCT)
    row = score_dmel.tts_lines([{**r, "model": "tts", "set": "test_tts"}], {}, "")[2]
    assert row.startswith("| tts | test_tts | 3 | - | - | 33.3 | 1.13 | 66.7 | ")
