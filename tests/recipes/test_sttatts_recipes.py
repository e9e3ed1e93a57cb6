"""End-to-end runs of the STTATTS recipes, stages 1-8, on tiny synthesized corpora.

Training is one epoch of the mini config, so the figures are those of an untrained model: these
tests check that every stage runs, writes what the next one reads, reruns identically, and that
the packed zip loads in a fresh process; quality is measured by `make demo` (RESULTS.md).
"""
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import espnet_ext.vocoder
from espnet_ext.text.normalize import normalize_arabic, normalize_english


def rk(path) -> dict:
    return dict(line.split(" ", 1) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


TINY = ["--train_config", "conf/sttatts_mini.yaml", "--train_args", "--max_epoch 1", "--judge_args", "--max_epoch 1",
        "--inference_nj", "2"]


def digest(paths) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(paths)}


@pytest.fixture(scope="module")
def english(tmp_path_factory, recipe_tools):
    t = recipe_tools
    recipe = t.link("librispeech/sttatts1", tmp_path_factory.mktemp("sttatts_en"))
    corpora = recipe / "corpora"
    splits = ["train-clean-100", "dev-clean", "test-clean"]
    opts = dict(num_speakers=3, utts_per_speaker=4, eval_num_speakers=1, eval_utts_per_speaker=2, splits=splits)
    t.synthesize(corpora, "librispeech", **opts)
    t.synthesize(corpora, "libritts", **opts)
    t.synthesize(corpora, "cmu_arctic", num_speakers=2, utts_per_speaker=6, eval_utts_per_speaker=2)
    env = {"LIBRISPEECH": "corpora", "LIBRITTS": "corpora", "CMU_ARCTIC": "corpora"}
    tiny_vocoder = Path(espnet_ext.vocoder.__file__).parent / "conf/parallel_wavegan_tiny.yaml"
    vocoder = ["--train_vocoder", "true", "--vocoder_type", "parallel_wavegan",
               "--vocoder_args", f"--train_max_steps 2 --config {tiny_vocoder}"]
    t.run(recipe, "--stage", "1", "--stop_stage", "8", "--local_data_opts", "--vc_test_prompts 2", *TINY, *vocoder,
          env=env)
    return recipe, env


def test_english_stages_write_what_the_next_stage_reads(english):
    recipe, _ = english
    categories = set(rk(recipe / "data/train/utt2category").values())
    assert categories == {"asr", "tts", "vc"}
    train = recipe / "dump/raw/train"
    wavs = rk(train / "wav.scp")
    assert all(sf.info(recipe / p).samplerate == 16000 for p in list(wavs.values())[:5])
    assert (train / "dropped.txt").exists()
    assert set(rk(train / "dvector.scp")) == set(wavs)
    assert set(rk(train / "tgt_wav.scp")) == {u for u, c in rk(train / "utt2category").items() if c == "vc"}
    tokens = (recipe / "data/token_list/char/tokens.txt").read_text().splitlines()
    assert tokens[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and "▁" in tokens
    exp = recipe / "exp/sttatts_sttatts_mini"
    assert (exp / "valid.loss.ave.pth").exists() and (recipe / "exp/judge_asr_sttatts_mini/valid.acc.ave.pth").exists()
    decode = next(exp.glob("decode_*"))
    test_asr = set(rk(recipe / "dump/raw/test_asr_test_clean/wav.scp"))
    assert set(rk(decode / "test_asr_test_clean/1best_recog/text")) == test_asr
    for dset in ("test_tts_test_clean", "test_vc"):
        generated = rk(decode / dset / "wav.scp")
        assert set(generated) == set(rk(recipe / "dump/raw" / dset / "wav.scp"))
        assert all((recipe / p).exists() for p in generated.values())


def test_english_results_have_every_table_with_numbers(english, recipe_tools):
    recipe, _ = english
    exp = recipe / "exp/sttatts_sttatts_mini"
    results = (exp / "RESULTS.md").read_text()
    for heading in ("## ASR", "## TTS", "## VC", "judge ASR for TTS/VC: espnet:judge_asr_sttatts_mini"):
        assert heading in results
    decode = next(exp.glob("decode_*"))
    asr = json.loads((decode / "test_asr_test_clean/score.json").read_text())
    tts = json.loads((decode / "test_tts_test_clean/score.json").read_text())
    vc = json.loads((decode / "test_vc/score.json").read_text())
    # the ASR figures are those of the hypotheses and references, recounted here
    refs = recipe_tools.read_text(recipe / "dump/raw/test_asr_test_clean/text")
    hyps = recipe_tools.read_text(decode / "test_asr_test_clean/1best_recog/text")
    expected = recipe_tools.recount(refs, hyps, normalize_english)
    assert asr["task"] == "asr" and asr["utts"] == len(refs) == 2
    assert asr["default"] == {"wer": pytest.approx(expected["wer"]), "cer": pytest.approx(expected["cer"])}
    for key in ("judge_synth", "judge_real", "judge_gl_copy", "judge_vocoder_copy"):
        assert tts[key]["judge"] == "espnet:judge_asr_sttatts_mini" and tts[key]["cer"] >= 0
    assert -1 <= vc["spk_sim_target"] <= 1 and -1 <= vc["spk_sim_source"] <= 1
    # --train_vocoder true: stage 5 trained one, stages 6-7 synthesised and copy-synthesised with it
    assert list((recipe / "exp/vocoder_parallel_wavegan").glob("checkpoint-*steps.pkl"))
    assert [d.name for d in exp.glob("decode_*")] == ["decode_decode_sttatts_valid.loss.ave_vocoder_parallel_wavegan"]
    assert tts["mcd_gl_copy_db"] >= 0 and tts["mcd_vocoder_copy_db"] >= 0
    assert "| test_tts_test_clean | Griffin-Lim |" in results and "exp/vocoder_parallel_wavegan`" in results
    assert f"| test_asr_test_clean | 2 | default | {expected['wer']:.1f} | {expected['cer']:.1f} |" in results


def test_english_stages_2_and_3_rerun_to_identical_outputs(english, recipe_tools):
    recipe, env = english
    dump = recipe / "dump/raw/train"
    files = [dump / "wav.scp", dump / "text", dump / "dvector.ark", dump / "spk_dvector.ark", *dump.glob("data/*.wav")]
    before = digest(files)
    recipe_tools.run(recipe, "--stage", "2", "--stop_stage", "3", *TINY, env=env, log="rerun.log")
    assert digest(files) == before


def test_english_stage_6_reruns_with_fewer_jobs(english, recipe_tools):
    # the first run decoded with --inference_nj 2; a rerun with 1 job must not merge the old job 2
    recipe, env = english
    assert TINY[-2:] == ["--inference_nj", "2"]
    recipe_tools.run(recipe, "--stage", "6", "--stop_stage", "6", "--test_sets", "test_asr_test_clean",
                     *TINY[:-2], "--inference_nj", "1", env=env, log="rerun6.log")
    out = next((recipe / "exp/sttatts_sttatts_mini").glob("decode_*")) / "test_asr_test_clean"
    assert sorted(p.name for p in (out / "logdir").glob("output.*")) == ["output.1"]
    assert set(rk(out / "1best_recog/text")) == set(rk(recipe / "dump/raw/test_asr_test_clean/wav.scp"))


def test_packed_zip_loads_in_a_fresh_process_and_decodes_as_stage_6(english, recipe_tools):
    recipe, _ = english
    zip_path = recipe / "exp/sttatts_sttatts_mini/sttatts_sttatts_mini.zip"
    utt, wav = next(iter(rk(recipe / "dump/raw/test_asr_test_clean/wav.scp").items()))
    decode = next((recipe / "exp/sttatts_sttatts_mini").glob("decode_*"))
    stage_6 = recipe_tools.read_text(decode / "test_asr_test_clean/1best_recog/text")[utt]
    # the zip's model with stage 6's decoding options (run.sh's --inference_config) on the same audio
    script = f"""
import json
import soundfile as sf
import yaml
from espnet_model_zoo.downloader import ModelDownloader
from espnet_ext.bin.sttatts_inference import Speech2Text
files = ModelDownloader(r"{recipe / 'zoo_cache'}").download_and_unpack(r"{zip_path}")
assert "train_config" in files and "model_file" in files, files
conf = yaml.safe_load(open(r"{recipe / 'conf/decode_sttatts.yaml'}"))
options = {{k: conf[k] for k in ("beam_size", "ctc_weight", "nbest")}}
s2t = Speech2Text.from_pretrained(model_tag=r"{zip_path}", cachedir=r"{recipe / 'zoo_cache'}", **options)
wav, fs = sf.read(r"{recipe / wav}", dtype="float32")
text, tokens, ids, hyp = s2t(wav)[0]
print("DECODED", json.dumps(text))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=recipe)
    assert out.returncode == 0, out.stderr[-3000:]
    decoded = [line for line in out.stdout.splitlines() if line.startswith("DECODED ")]
    assert decoded and json.loads(decoded[-1][len("DECODED "):]) == stage_6


def test_arabic_recipe_runs_every_stage_and_scores_with_and_without_diacritics(tmp_path, recipe_tools):
    t = recipe_tools
    recipe = t.link("arabic_asc/sttatts1", tmp_path / "ar")
    t.synthesize(recipe / "corpora", "arabic_speech_corpus", utts_per_speaker=16, eval_utts_per_speaker=3)
    # The judge ASR is exercised by the English run; here it is skipped to keep the suite short.
    t.run(recipe, "--stage", "1", "--stop_stage", "8", "--local_data_opts", "--dev_utts 3", *TINY,
          "--train_judge", "false", env={"ASC": "corpora"})
    exp = recipe / "exp/sttatts_sttatts_mini"
    results = (exp / "RESULTS.md").read_text()
    # both figures recounted from the hypotheses and references, with and without diacritics
    refs = t.read_text(recipe / "dump/raw/test_asr/text")
    hyps = t.read_text(next(exp.glob("decode_*")) / "test_asr/1best_recog/text")
    score = json.loads((next(exp.glob("decode_*")) / "test_asr/score.json").read_text())
    for name, remove in (("with diacritics", False), ("without diacritics", True)):
        expected = t.recount(refs, hyps, lambda text: normalize_arabic(text, remove_diacritics=remove))
        assert score[name] == {"wer": pytest.approx(expected["wer"]), "cer": pytest.approx(expected["cer"])}, name
        assert f"| test_asr | 3 | {name} | {expected['wer']:.1f} | {expected['cer']:.1f} |" in results
    assert "## TTS" in results and (exp / "sttatts_sttatts_mini.zip").exists()
    texts = rk(recipe / "data/train_asr/text")
    assert any("\u064b" <= ch <= "\u0652" for t in texts.values() for ch in t)  # diacritics kept by default


CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Injected into a copy of the page: once loaded, which images have pixels and which <audio> elements
# decoded their metadata, written into the DOM that --dump-dom prints.
BROWSER_CHECK = """<script>
window.addEventListener("load", async () => {
  const images = [...document.images].map(i => [i.getAttribute("src"), i.complete && i.naturalWidth > 0]);
  const audios = await Promise.all([...document.querySelectorAll("audio")].map(a => new Promise(done => {
    const result = ok => done([a.getAttribute("src"), ok, a.duration]);
    if (a.readyState >= 1) return result(true);
    a.addEventListener("loadedmetadata", () => result(true));
    a.addEventListener("error", () => result(false));
    a.load();
  })));
  const pre = document.createElement("pre");
  pre.id = "browser-check";
  pre.textContent = JSON.stringify({images, audios});
  document.body.appendChild(pre);
});
</script>"""


def page_sources(page: str) -> dict:
    """{"audio": [src, ...], "img": [...], "href": [...]} of an HTML page."""
    from html.parser import HTMLParser

    found = {"audio": [], "img": [], "href": []}

    class Sources(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag in ("audio", "img"):
                found[tag].append(attrs["src"])
            if "href" in attrs:
                found["href"].append(attrs["href"])

    Sources().feed(page)
    return found


def chromium(tmp_path, *args) -> str:
    argv = [*CHROMIUM, f"--user-data-dir={tmp_path / 'chromium_profile'}", *args]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_listening_page_shows_each_sample_with_its_figures_and_plays_in_chromium(english, tmp_path):
    from PIL import Image

    recipe, _ = english
    exp = recipe / "exp/sttatts_sttatts_mini"
    # stage 7's decode dir (test_english_stage_6_reruns_with_fewer_jobs adds one without the vocoder)
    samples, decode = exp / "samples", exp / "decode_decode_sttatts_valid.loss.ave_vocoder_parallel_wavegan"
    page = (samples / "index.html").read_text(encoding="utf-8")
    assert str(recipe) not in page and not re.search(r'(src|href)="(/|[a-z]+:)', page)  # relative paths only
    assert '<meta charset="utf-8">' in page and 'dir="auto"' in page
    src = page_sources(page)
    # the tiny sets are shown whole (fewer than 8 utterances each), one <audio> per kind of sample
    asr, vc, tts = (sorted(rk(recipe / "dump/raw" / name / "wav.scp"))
                    for name in ("test_asr_test_clean", "test_vc", "test_tts_test_clean"))
    # ASR: the recording; VC: source, target speaker, converted; TTS: real, Griffin-Lim, vocoder, synthesized
    assert len(src["audio"]) == len(asr) + 3 * len(vc) + 4 * len(tts)
    for rel in src["audio"]:
        wav, fs = sf.read(samples / rel)
        assert fs == 16000 and len(wav) > 0
    # TTS: mel beside the reference for every row, attention where stage 6 saved it; per-utterance figures
    assert sum("_mel.png" in s for s in src["img"]) == len(tts)
    saved_att = {p.name[: -len("_att.npy")] for p in decode.glob("test_tts_test_clean/logdir/output.*/plots/*_att.npy")}
    assert saved_att and sum("_att.png" in s for s in src["img"]) == len(saved_att & set(tts))
    scores = json.loads((decode / "test_tts_test_clean/utt_scores.json").read_text(encoding="utf-8"))
    summary = json.loads((decode / "test_tts_test_clean/score.json").read_text(encoding="utf-8"))
    assert sum(s["spk_sim_target"] for s in scores.values()) / len(scores) == pytest.approx(summary["spk_sim_target"])
    for utt in tts:
        assert f"judge CER {scores[utt]['judge_synth_cer']:.1f} % · spk sim {scores[utt]['spk_sim_target']:.3f}" in page
        assert f"judge CER {scores[utt]['judge_vocoder_copy_cer']:.1f} %" in page
    asr_scores = json.loads((decode / "test_asr_test_clean/utt_scores.json").read_text(encoding="utf-8"))
    assert set(asr_scores) == set(asr)
    for s in asr_scores.values():  # the hypothesis stage 7 scored, its words marked, and its rates
        assert f"CER {s['cer']:.1f} % · WER {s['wer']:.1f} %" in page
        assert all(html.escape(word) in page for word in normalize_english(s["hyp"]).split())
    # in the browser: every image has pixels, every <audio> decodes, and the page renders
    copy = shutil.copytree(samples, tmp_path / "samples")
    (copy / "check.html").write_text(page.replace("</body>", BROWSER_CHECK + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, "--virtual-time-budget=15000", "--dump-dom", (copy / "check.html").as_uri())
    check = json.loads(html.unescape(re.search(r'<pre id="browser-check">(.*?)</pre>', dom, re.S).group(1)))
    assert [s for s, ok in check["images"] if not ok] == [] and len(check["images"]) == len(src["img"])
    assert [s for s, ok, _ in check["audios"] if not ok] == [] and len(check["audios"]) == len(src["audio"])
    assert all(duration > 0 for _, _, duration in check["audios"])
    shot = tmp_path / "page.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1000", "--hide-scrollbars",
             (samples / "index.html").as_uri())
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (1000, 1400) and pixels.std() > 10  # text, players and figures, not a blank page
