"""End-to-end run of egs2/librispeech/dmel1, stages 1-8, on a tiny synthesized corpus.

Models are one-layer dMel LMs trained for two steps and a one-block judge, so the figures are
those of untrained models: the test checks that every stage runs and writes what the next one
reads, that stages 2-3 rerun to identical outputs, that RESULTS.md has every table with numbers,
and that the packed zips load. Quality is measured by demo.sh. Jobs: the separate TTS model and
the joint model (which decodes both the ASR and the TTS test set); the separate ASR model runs the
same code with the other utterance filter. Every job costs one more training and decoding process
(about 10 s of imports each on 2 cores), hence two of the three.
"""
import hashlib
import json
import re

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import yaml

from espnet_ext.text.normalize import normalize_english

RECIPE_FILES = ("run.sh", "dmel.sh", "path.sh", "cmd.sh", "db.sh", "conf", "local", "scripts")
# --use_matplotlib false: ESPnet's per-epoch figures cost seconds; RESULTS.md's come from stage 7.
TINY_LM = ("--max_epoch 1 --num_iters_per_epoch 2 --batch_bins 40000 --use_matplotlib false "
           "--lm_conf n_layer=1 --lm_conf n_embd=32 --lm_conf n_head=2 --lm_conf channel_embd=2 "
           "--scheduler_conf first_cycle_steps=2 --scheduler_conf warmup_steps=1")
TINY_JUDGE = ("--max_epoch 1 --num_iters_per_epoch 2 --use_matplotlib false "
              "--encoder_conf output_size=32 --encoder_conf linear_units=64 "
              "--encoder_conf num_blocks=1 --decoder_conf linear_units=64 --decoder_conf num_blocks=1")
ARGS = ["--train_config", "conf/dmel_mini.yaml", "--jobs", "tts joint", "--train_args", TINY_LM,
        "--judge_args", TINY_JUDGE, "--judge_opts", "beam_size=2",
        "--inference_nj", "1", "--tts_inference_args", "--tts_maxlenratio 2"]
EXP = "exp/dmel_dmel_mini"
TEST_ASR, TEST_TTS = "test_asr_test_clean", "test_tts_test_clean"


def rk(path) -> dict:
    return dict(line.split(" ", 1) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def digest(folder) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def recipe(tmp_path_factory, recipe_tools):
    """Stages 1-3, stages 2-3 again (digests of dump/ before and after), then stages 4-8."""
    t = recipe_tools
    d = t.link("librispeech/dmel1", tmp_path_factory.mktemp("dmel1"), files=RECIPE_FILES)
    opts = dict(num_speakers=2, utts_per_speaker=3, eval_num_speakers=2, eval_utts_per_speaker=1,
                splits=["train-clean-100", "dev-clean", "test-clean"])
    t.synthesize(d / "corpora", "librispeech", **opts)
    t.synthesize(d / "corpora", "libritts", **opts)
    env = {"LIBRISPEECH": "corpora", "LIBRITTS": "corpora"}
    t.run(d, "--stage", "1", "--stop_stage", "3", *ARGS, env=env, log="run13.log")
    first = digest(d / "dump")
    t.run(d, "--stage", "2", "--stop_stage", "3", *ARGS, env=env, log="rerun23.log")
    second = digest(d / "dump")
    t.run(d, "--stage", "4", "--stop_stage", "8", *ARGS, env=env, log="run48.log")
    return d, first, second


def test_stages_2_and_3_rerun_to_identical_outputs(recipe):
    d, first, second = recipe
    for name in ("train/wav.scp", "train/dvector.ark", "train/dmel.ark", f"{TEST_ASR}/dmel80.ark", "dev/dmel.yaml"):
        assert f"raw/{name}" in first
    assert any(name.endswith(".wav") for name in first)
    assert second == first


def test_stage_3_writes_tokens_at_the_models_rate_and_at_80_hz_for_the_reconstruction_check(recipe, monkeypatch):
    d, _, _ = recipe
    monkeypatch.chdir(d)  # scp files hold paths relative to the recipe folder
    data = d / "dump/raw" / TEST_ASR
    for name, rate in (("dmel", 40), ("dmel40", 40), ("dmel80", 80)):
        conf = yaml.safe_load((data / f"{name}.yaml").read_text())["dmel_conf"]
        assert conf["frame_rate_hz"] == rate
    n_samples = {k: int(v) for k, v in rk(data / "utt2num_samples").items()}
    for name, hop in (("dmel", 400), ("dmel80", 200)):
        tokens = kaldiio.load_scp(str(data / f"{name}.scp"))
        assert set(tokens) == set(n_samples)
        for key, t in tokens.items():
            assert t.shape == (n_samples[key] // hop + 1, 80)
            assert t.min() >= 0 and t.max() <= 15 and np.all(t == np.round(t))  # 16 bins, ids as floats
    assert not (d / "dump/raw" / TEST_TTS / "dmel80.scp").exists()  # the check runs on the ASR test set only


def test_each_job_trains_on_its_task_and_decodes_its_test_sets(recipe):
    d, _, _ = recipe
    category = rk(d / "dump/raw/train/utt2category")
    stats = d / "exp/dmel_stats_dmel_mini/train"
    assert {category[k] for k in rk(stats / "tts/speech_shape")} == {"tts"}
    assert set(rk(stats / "joint/speech_shape")) == set(category) and set(category.values()) == {"asr", "tts"}
    assert set(rk(stats / "tts/text_shape")) == set(rk(stats / "tts/speech_shape"))
    for job in ("tts", "joint"):
        config = yaml.safe_load((d / EXP / job / "config.yaml").read_text())
        assert config["model_conf"]["job"] == job
        assert config["lm_conf"]["spk_embed_dim"] == 256  # the d-vectors' size
        assert config["grad_clip"] == (1.0 if job == "tts" else 0.1)  # the paper's clip per job
    decode = "decode_default_valid.loss.ave"
    hyps = rk(d / EXP / "joint" / decode / TEST_ASR / "1best_recog/text")
    assert set(hyps) == set(rk(d / "dump/raw" / TEST_ASR / "text"))
    for job in ("tts", "joint"):
        out = d / EXP / job / decode / TEST_TTS
        wavs = rk(out / "wav.scp")
        assert set(wavs) == set(rk(d / "dump/raw" / TEST_TTS / "text"))
        assert all(sf.info(p).samplerate == 16000 for p in wavs.values())
        assert set(rk(out / "ended").values()) <= {"true", "false"}
    assert not (d / EXP / "tts" / decode / TEST_ASR).exists()  # not a task of the TTS model
    assert not (d / EXP / "asr").exists()


def test_listening_page_has_a_column_per_job_with_per_utterance_figures(recipe):
    d, _, _ = recipe
    page = (d / EXP / "samples/index.html").read_text(encoding="utf-8")
    decode = "decode_default_valid.loss.ave"
    assert "<th>tts: synthesized</th><th>joint: synthesized</th>" in page  # both models' TTS, side by side
    assert "<th>joint: hypothesis</th>" in page and "tts: hypothesis" not in page  # the TTS model has no ASR
    for job in ("tts", "joint"):
        scores = json.loads((d / EXP / job / decode / TEST_TTS / "utt_scores.json").read_text(encoding="utf-8"))
        assert set(scores) == set(rk(d / "dump/raw" / TEST_TTS / "text"))
        for utt, s in scores.items():
            assert f"judge CER {s['judge_synth_cer']:.1f} % · spk sim {s['spk_sim_target']:.3f}" in page
            wav, fs = sf.read(d / EXP / "samples/audio" / TEST_TTS / job / f"{utt}.wav")
            assert fs == 16000 and len(wav) > 0
    assert "_att.png" not in page  # the decoder-only dMel LM has no cross-attention to show


def _table_rows(results: str, heading: str) -> list:
    section = results.split(heading, 1)[1].split("\n## ", 1)[0]
    return [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("|") and not line.startswith("|---")][1:]


NUMBER = re.compile(r"^\d+(\.\d+)?$")


def test_results_md_has_asr_tts_and_reconstruction_tables_with_numbers(recipe, recipe_tools):
    d, _, _ = recipe
    results = (d / EXP / "RESULTS.md").read_text()
    assert "judge ASR for TTS and reconstruction: espnet:judge_asr_dmel_mini (decoding: beam_size=2)" in results
    # the joint model's ASR figures, recounted from its hypotheses and the references
    decode = d / EXP / "joint/decode_default_valid.loss.ave" / TEST_ASR
    refs = recipe_tools.read_text(d / "dump/raw" / TEST_ASR / "text")
    hyps = recipe_tools.read_text(decode / "1best_recog/text")
    expected = recipe_tools.recount(refs, hyps, normalize_english)
    score = json.loads((decode / "score.json").read_text())
    assert score["default"] == {"wer": pytest.approx(expected["wer"]), "cer": pytest.approx(expected["cer"])}
    asr = _table_rows(results, "## ASR")
    assert asr == [["joint", TEST_ASR, "2", f"{expected['wer']:.1f}", f"{expected['cer']:.1f}"]]
    tts = {r[0]: r for r in _table_rows(results, "## TTS")}
    assert set(tts) == {"tts", "joint", "real recording", "copy-synthesis: mel 40 Hz + griffin_lim",
                        "copy-synthesis: dMel 40 Hz + griffin_lim"}
    for row in tts.values():
        assert row[1] == TEST_TTS and NUMBER.match(row[3]) and NUMBER.match(row[4])  # judge CER and WER
    # eos %, length ratio, within +-15 %, MCD (WORLD); no 80-band MCD for a model's own output; spk sim
    assert all(NUMBER.match(c) for c in tts["tts"][5:9]) and tts["tts"][9] == "-" and -1 <= float(tts["tts"][10]) <= 1
    assert NUMBER.match(tts["copy-synthesis: dMel 40 Hz + griffin_lim"][9])  # 80-band MCD of copy-synthesis
    recon = _table_rows(results, "## Reconstruction")
    assert [(r[0], r[1], r[2]) for r in recon] == [
        ("ground truth", "-", "-"), ("mel", "40 Hz", "griffin_lim"), ("dMel", "40 Hz", "griffin_lim"),
        ("mel", "80 Hz", "griffin_lim"), ("dMel", "80 Hz", "griffin_lim")]
    assert all(NUMBER.match(r[3]) and NUMBER.match(r[4]) for r in recon)
    for row in recon[1:]:
        assert float(row[5]) > 0 and float(row[6]) > 0  # MCD to the recording: WORLD, 80-band mel
    # Uniform bins 0.6 apart: nearest-bin error averages well under half a bin width.
    assert all(0 < float(r[7]) < 0.3 for r in recon if r[0] == "dMel")
    score = json.loads((d / EXP / "reconstruction" / TEST_ASR / "score.json").read_text())
    assert score["utts"] == 2 and score["judge"] == "espnet:judge_asr_dmel_mini"
    for job in ("tts", "joint"):
        own = (d / EXP / job / "RESULTS.md").read_text()
        assert "## Reconstruction" in own and (d / EXP / job / "images/training_curves.png").exists()
    assert "## ASR" not in (d / EXP / "tts/RESULTS.md").read_text()


def test_packed_zips_load_through_from_pretrained(recipe, monkeypatch):
    d, _, _ = recipe
    monkeypatch.chdir(d)
    from espnet_ext.bin.dmel_inference import Speech2Text, Text2Speech

    cache = d / "zoo_cache"
    wav, _ = sf.read(next(iter(rk(d / "dump/raw" / TEST_ASR / "wav.scp").values())), dtype="float32")
    spk = kaldiio.load_scp(str(d / "dump/raw" / TEST_TTS / "dvector.scp"))
    joint = str(d / EXP / "joint" / "dmel_dmel_mini_joint.zip")
    s2t = Speech2Text.from_pretrained(joint, cachedir=str(cache), maxlenratio=0.05)
    text, tokens, ids, score = s2t(wav)[0]
    assert isinstance(text, str) and len(ids) <= max(1, int(0.05 * (len(wav) // 400 + 1)))
    for job in ("tts", "joint"):
        t2s = Text2Speech.from_pretrained(str(d / EXP / job / f"dmel_dmel_mini_{job}.zip"), cachedir=str(cache),
                                          maxlenratio=1.0)
        out = t2s("a cat", spembs=next(iter(spk.values())))
        assert out["tokens"].shape[1] == 80 and len(out["wav"]) == len(out["tokens"]) * 400


def test_stage_7_rescores_without_the_reconstruction_check_when_told(recipe, recipe_tools):
    d, _, _ = recipe  # last test of the module: it rewrites RESULTS.md
    recipe_tools.run(d, "--stage", "7", "--stop_stage", "7", *ARGS, "--recon_sets", "none",
                     env={"LIBRISPEECH": "corpora", "LIBRITTS": "corpora"}, log="rerun7.log")
    results = (d / EXP / "RESULTS.md").read_text()
    assert "## TTS" in results and "## Reconstruction" not in results
