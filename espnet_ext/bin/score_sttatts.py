"""Stage 7: score the decoded test sets and write ``<exp_dir>/RESULTS.md``.

    python -m espnet_ext.bin.score_sttatts --lang en --exp_dir exp/sttatts_mini \
        --decode_dir exp/sttatts_mini/decode_x --dump_dir dump/raw --test_sets test_asr test_tts test_vc \
        --judge espnet:exp/judge/config.yaml,exp/judge/valid.acc.ave.pth --command "./run.sh ..."

Per test set, by its task (``utt2category``):
- ASR: WER / CER of the model's own decoding on normalised text (Arabic: with and without
  diacritics).
- TTS: the judge's CER / WER on the synthesized speech, next to the judge's CER on the real test
  audio and on Griffin-Lim copy-synthesis of the reference mels (so the vocoder's share is
  visible); the share of utterances whose stop token fired; generated / reference length ratios;
  MCD with DTW against the recording; speaker similarity (d-vector cosine) to the recording.
  Copy-synthesis is also scored with the MCD on the 80-band mel the vocoder inverts.
- VC: the judge's CER, speaker similarity to the target recording and to the source, MCD-DTW to
  the target.
MCD is measured on WORLD mel cepstra unless named otherwise (``espnet_ext.evaluation.mcd``).
Figures go to ``<exp_dir>/images/``; per-set numbers to ``<decode_dir>/<set>/score.json``, per-utterance
ones to ``<decode_dir>/<set>/utt_scores.json`` (``espnet_ext.evaluation.utterance_scores``).
"""
import argparse
import json
import logging
import shlex
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from espnet_ext.corpora.data_dir import read_kv, write_text_atomic
from espnet_ext.evaluation.judge import add_judge_arguments, judge_from_args
from espnet_ext.evaluation.mcd import MCD_REPORT_NOTE, mean_mcd
from espnet_ext.evaluation.speaker_similarity import cosine_similarity, speaker_embedding
from espnet_ext.evaluation.text_metrics import score_transcripts
from espnet_ext.evaluation.utterance_scores import add_transcripts, add_values, write_utt_scores
from espnet_ext.text.normalize import normalize_arabic, normalize_english
from espnet_ext.vocoder import load_vocoder
from espnet_ext.vocoder.features import MelConfig, log_mel

FS = 16000
LENGTH_TOLERANCE = 0.15  # generated length within +-15 % of the reference counts as right
MIN_SAMPLES = FS // 10  # a synthesis that stopped at once is zero-padded to 0.1 s to be measurable


def normalizers(lang: str) -> dict:
    """Named text normalisers to score with (Arabic is scored with and without diacritics)."""
    if lang == "ar":
        return {
            "with diacritics": lambda t: normalize_arabic(t, remove_diacritics=False),
            "without diacritics": lambda t: normalize_arabic(t, remove_diacritics=True),
        }
    return {"": normalize_english}


def read_wavs(scp: Path) -> dict:
    return {k: sf.read(v, dtype="float32")[0] for k, v in read_kv(scp).items()}


def set_task(dump: Path) -> str:
    tasks = set(read_kv(dump / "utt2category").values())
    if len(tasks) != 1:
        raise SystemExit(f"{dump}: a test set must hold one task, found {sorted(tasks)}")
    return tasks.pop()


def score_asr(dump: Path, decode: Path, lang: str) -> dict:
    refs = read_kv(dump / "text")
    hyps = read_kv(decode / "1best_recog" / "text")
    missing = sorted(set(refs) - set(hyps))
    if missing:
        logging.warning("%s: %d utterances have no hypothesis (counted as empty): %s", decode, len(missing), missing[:5])
    out = {"utts": len(refs)}
    for name, norm in normalizers(lang).items():
        rates = score_transcripts(refs, {k: hyps.get(k, "") for k in refs}, norm)
        out[name or "default"] = {"wer": rates["wer"].percent, "cer": rates["cer"].percent}
    per_utt = {}
    add_transcripts(per_utt, "", refs, {k: hyps.get(k, "") for k in refs}, list(normalizers(lang).values())[-1])
    write_utt_scores(decode, per_utt)
    return out


def judge_cer(judge, wavs: dict, refs: dict, lang: str, per_utt=None, prefix: str = "") -> dict:
    """The judge's CER / WER over ``wavs``; with ``per_utt``, also each utterance's (keys ``<prefix>_cer``...)."""
    norm = list(normalizers(lang).values())[-1]
    score = judge.score(wavs, {k: refs[k] for k in wavs}, FS, norm)
    if per_utt is not None:
        add_transcripts(per_utt, f"{prefix}_", refs, score.hypotheses, norm)
    return {"cer": score.cer.percent, "wer": score.wer.percent, "judge": score.judge}


def copy_synthesis(target: dict, vocoder_file) -> dict:
    """{utt: recording} -> {utt: the recording's reference mel through the vocoder} (None: Griffin-Lim)."""
    vocoder, mel = load_vocoder(vocoder_file), MelConfig()
    return {k: vocoder(log_mel(w, mel)) for k, w in target.items()}


def score_speech(task: str, dump: Path, decode: Path, lang: str, judge, images: Path, name: str,
                 vocoder_file=None, device: str = "cpu") -> dict:
    gen = {k: np.pad(w, (0, max(0, MIN_SAMPLES - len(w)))) for k, w in read_wavs(decode / "wav.scp").items()}
    refs = read_kv(dump / "text")
    target_scp = dump / ("tgt_wav.scp" if task == "vc" else "wav.scp")
    target = {k: v for k, v in read_wavs(target_scp).items() if k in gen}
    out, per_utt = {"utts": len(gen)}, {}
    if judge is not None:
        out["judge_synth"] = judge_cer(judge, gen, refs, lang, per_utt, "judge_synth")
        if task == "tts":
            out["judge_real"] = judge_cer(judge, target, refs, lang, per_utt, "judge_real")
            copies = {"gl": copy_synthesis(target, None)}
            if vocoder_file:
                copies["vocoder"] = copy_synthesis(target, vocoder_file)
            for kind, copy in copies.items():
                out[f"judge_{kind}_copy"] = judge_cer(judge, copy, refs, lang, per_utt, f"judge_{kind}_copy")
                out[f"mcd_{kind}_copy_db"] = mean_mcd(target, copy, FS)
                out[f"mcd_{kind}_copy_mel80_db"] = mean_mcd(target, copy, FS, "mel")
    shapes = {k: int(v.split(",")[0]) for k, v in read_kv(decode / "speech_shape").items()}
    ratios = {k: shapes[k] / max(1, len(target[k]) // MelConfig().hop_length + 1) for k in gen}
    out["length_ratio_mean"] = float(np.mean(list(ratios.values())))
    out["length_within_15pct"] = 100.0 * float(np.mean([abs(r - 1) <= LENGTH_TOLERANCE for r in ratios.values()]))
    if (decode / "stop_fired").exists():
        fired = read_kv(decode / "stop_fired")
        out["stop_fired_pct"] = 100.0 * float(np.mean([fired[k] == "1" for k in gen]))
    out["mcd_dtw_db"] = mean_mcd(target, gen, FS)
    out["mcd_analysis"] = "world"  # score_dmel --compare_tts: older score.json held the 80-band-mel MCD
    emb_gen = {k: speaker_embedding(w, FS, device) for k, w in gen.items()}
    sim_target = {k: cosine_similarity(emb_gen[k], speaker_embedding(target[k], FS, device)) for k in gen}
    out["spk_sim_target"] = float(np.mean(list(sim_target.values())))
    add_values(per_utt, "spk_sim_target", sim_target)
    if task == "vc":
        source = read_wavs(dump / "wav.scp")
        sim_source = {k: cosine_similarity(emb_gen[k], speaker_embedding(source[k], FS, device)) for k in gen}
        out["spk_sim_source"] = float(np.mean(list(sim_source.values())))
        add_values(per_utt, "spk_sim_source", sim_source)
    write_utt_scores(decode, per_utt)
    plot_examples(decode, target, images, name)
    return out


def plot_examples(decode: Path, target: dict, images: Path, name: str) -> None:
    """Mel (generated vs reference), attention and stop-probability plots of saved examples."""
    from espnet_ext.evaluation.plots import plot_attention, plot_mels, plot_stop_probability

    for att in sorted(decode.glob("logdir/output.*/plots/*_att.npy"))[:1]:
        key = att.name[: -len("_att.npy")]
        plot_attention(np.load(att), images / f"{name}_attention.png", title=f"{name} {key}")
        prob = att.with_name(f"{key}_prob.npy")
        if prob.exists():
            plot_stop_probability(np.load(prob), images / f"{name}_stop.png", title=f"{name} {key}")
        feat = att.with_name(f"{key}_feat.npy")
        if feat.exists() and key in target:
            plot_mels(np.load(feat), images / f"{name}_mel.png", reference=log_mel(target[key], MelConfig()), title=key)


def _db(value) -> str:
    return "-" if value is None else f"{value:.2f}"  # mean_mcd gives None for a set without utterances


def write_results(path: Path, args, results: dict, judge_name: str, images: Path) -> None:
    lines = [f"# RESULTS: {Path(args.exp_dir).name}", ""]
    lines += [f"- command: `{args.command}`" if args.command else "- command: (not recorded)"]
    lines += [f"- scoring: `python -m espnet_ext.bin.score_sttatts {shlex.join(sys.argv[1:])}`"]
    lines += [f"- judge ASR for TTS/VC: {judge_name or 'none given (no intelligibility figures)'}", ""]
    asr = {k: v for k, v in results.items() if v["task"] == "asr"}
    if asr:
        lines += ["## ASR (the model's own decoding)", "", "| set | utts | text | WER % | CER % |", "|---|---|---|---|---|"]
        for name, r in asr.items():
            for norm, v in r.items():
                if isinstance(v, dict):
                    lines.append(f"| {name} | {r['utts']} | {norm} | {v['wer']:.1f} | {v['cer']:.1f} |")
        lines.append("")
    for task, title in (("tts", "TTS"), ("vc", "VC")):
        rows = {k: v for k, v in results.items() if v["task"] == task}
        if not rows:
            continue
        lines += [f"## {title}", ""]
        if task == "tts":
            head = ["set", "utts", "judge CER % synth", "judge CER % real audio", "judge CER % GL copy-synth",
                    "judge CER % vocoder copy-synth", "stop fired %", "length within ±15 %", "mean length ratio", "MCD-DTW dB", "spk sim to ref"]
        else:
            head = ["set", "utts", "judge CER % converted", "spk sim to target", "spk sim to source", "MCD-DTW dB to target"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for name, r in rows.items():
            cer = lambda key: f"{r[key]['cer']:.1f}" if key in r else "-"  # noqa: E731
            if task == "tts":
                cells = [name, r["utts"], cer("judge_synth"), cer("judge_real"), cer("judge_gl_copy"), cer("judge_vocoder_copy"),
                         f"{r['stop_fired_pct']:.1f}" if "stop_fired_pct" in r else "-",
                         f"{r['length_within_15pct']:.1f}", f"{r['length_ratio_mean']:.2f}",
                         _db(r["mcd_dtw_db"]), f"{r['spk_sim_target']:.3f}"]
            else:
                cells = [name, r["utts"], cer("judge_synth"), f"{r['spk_sim_target']:.3f}",
                         f"{r['spk_sim_source']:.3f}", _db(r["mcd_dtw_db"])]
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        lines.append("")
        copies = [(name, kind, r) for name, r in rows.items() for kind in ("gl", "vocoder") if f"mcd_{kind}_copy_db" in r]
        if copies:
            lines += ["Copy-synthesis: the recording's own mel through each vocoder, judged by the same judge. "
                      + MCD_REPORT_NOTE, "",
                      "| set | vocoder | judge CER % | MCD-DTW dB | MCD-DTW dB (80-band mel) |", "|---|---|---|---|---|"]
            for name, kind, r in copies:
                label = "Griffin-Lim" if kind == "gl" else f"`{args.vocoder_file}`"
                lines.append(f"| {name} | {label} | {r[f'judge_{kind}_copy']['cer']:.1f} | {_db(r[f'mcd_{kind}_copy_db'])} "
                             f"| {_db(r[f'mcd_{kind}_copy_mel80_db'])} |")
            lines.append("")
    pngs = sorted(images.glob("*.png")) if images.exists() else []
    if pngs:
        lines += ["## Figures", ""] + [f"![{p.stem}](images/{p.name})" for p in pngs] + [""]
    write_text_atomic(path, "\n".join(lines))


def get_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lang", default="en", choices=("en", "ar"))
    p.add_argument("--exp_dir", required=True)
    p.add_argument("--decode_dir", required=True)
    p.add_argument("--dump_dir", required=True, help="dump/raw: reference text and audio per set")
    p.add_argument("--test_sets", nargs="+", required=True)
    add_judge_arguments(p)
    p.add_argument("--vocoder_file", default=None,
                   help="the vocoder of the synthesis: its copy-synthesis is judged beside Griffin-Lim's")
    p.add_argument("--command", default="", help="the recipe command line, recorded in RESULTS.md")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    judge = judge_from_args(args)
    exp, images = Path(args.exp_dir), Path(args.exp_dir) / "images"
    results = {}
    for name in args.test_sets:
        dump, decode = Path(args.dump_dir) / name, Path(args.decode_dir) / name
        task = set_task(dump)
        logging.info("scoring %s (%s)", name, task)
        if task == "asr":
            r = score_asr(dump, decode, args.lang)
        else:
            r = score_speech(task, dump, decode, args.lang, judge, images, name, args.vocoder_file, args.device)
        r["task"] = task
        write_text_atomic(decode / "score.json", json.dumps(r, indent=2))  # score_dmel --compare_tts reads it
        results[name] = r
    try:
        from espnet_ext.evaluation.plots import plot_training_curves

        plot_training_curves(exp, images / "training_curves.png")
    except (FileNotFoundError, ValueError) as err:
        logging.warning("no training curves: %s", err)
    write_results(exp / "RESULTS.md", args, results, judge.name if judge else "", images)
    logging.info("wrote %s", exp / "RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
