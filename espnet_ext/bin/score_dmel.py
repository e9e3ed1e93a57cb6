"""Stage 7 of the dMel recipe: score every model's decoding, run the reconstruction check, and write
RESULTS.md: all models side by side in the experiment folder, and one per model folder (packed
with the model in stage 8).

    python -m espnet_ext.bin.score_dmel --exp_dir exp/dmel_mini --jobs asr tts joint \
        --decode_name decode_default_valid.loss.ave --dump_dir dump/raw \
        --test_sets test_asr_test_clean test_tts_test_clean --recon_sets test_asr_test_clean \
        --judge espnet:exp/judge_asr_mini/config.yaml,exp/judge_asr_mini/valid.acc.ave.pth \
        [--vocoder_file V] [--compare_tts STTATTS=../sttatts1/exp/x/decode_y/test_tts_test_clean/score.json]

Per model (``<exp_dir>/<job>/``) and test set, by the set's task (``utt2category``):

- ASR (asr and joint models): WER / CER of the model's own decoding (``score_sttatts.score_asr``).
- TTS (tts and joint models): the judge's CER / WER on the synthesized speech; the share of
  utterances that ended with the eos frame (the rest were cut at the length limit); generated /
  recorded duration; MCD-DTW (WORLD mel cepstra, ``espnet_ext.evaluation.mcd``) and d-vector
  similarity to the recording. Next to them, once per set, the same judge on the real recordings
  and on copy-synthesis of their mel and of their dMel tokens at the model's frame rate through
  the synthesis's vocoder: what the vocoder and the discretization alone cost (copy-synthesis
  also with the MCD on the 80-band mel the vocoder inverts).
- Reconstruction check (``dmel_reconstruction``) on every ``--recon_sets`` set.
- ``--compare_tts LABEL=<score.json>``: a TTS row of another system (e.g. STTATTS's
  ``score_sttatts`` output on the same split), with the judge it was scored by; its MCD only if
  it was scored on WORLD mel cepstra too (``"mcd_analysis": "world"``).

Numbers per model and set go to ``<job>/<decode_name>/<set>/score.json`` (per utterance:
``utt_scores.json``, ``espnet_ext.evaluation.utterance_scores``); the reconstruction check
to ``<exp_dir>/reconstruction/<set>/``; figures to ``<job>/images/`` and ``<exp_dir>/images/``.
"""
import argparse
import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Dict, List, Optional

import kaldiio
import numpy as np
import torch

from espnet_ext.bin.dmel_reconstruction import copy_synthesis, load_tokens, markdown_table, reconstruction_check
from espnet_ext.bin.score_sttatts import FS, LENGTH_TOLERANCE, judge_cer, read_wavs, score_asr, set_task
from espnet_ext.corpora.data_dir import read_kv, write_text_atomic
from espnet_ext.evaluation.judge import add_judge_arguments, judge_from_args
from espnet_ext.evaluation.mcd import MCD_REPORT_NOTE, mean_mcd
from espnet_ext.evaluation.speaker_similarity import cosine_similarity, speaker_embedding
from espnet_ext.evaluation.utterance_scores import add_values, write_utt_scores
from espnet_ext.vocoder import load_vocoder

TASKS_OF_JOB = {"asr": ("asr",), "tts": ("tts",), "joint": ("asr", "tts")}


def _mean(values) -> Optional[float]:
    values = list(values)
    return float(np.mean(values)) if values else None


def model_tokens(dump: Path):
    """(tokenizer, tokens) of the set at the models' settings (``dmel.{scp,yaml}`` from stage 3)."""
    found = load_tokens(dump, "dmel")
    if found is None:
        raise SystemExit(f"{dump}/dmel.scp or dmel.yaml not found: run stage 3")
    return found


def tts_references(dump: Path, judge, lang: str, vocoder_file: Optional[str]) -> dict:
    """The judge on the real recordings and on copy-synthesis of their mel and of their dMel tokens."""
    real = read_wavs(dump / "wav.scp")
    refs = read_kv(dump / "text")
    tokenizer, tokens = model_tokens(dump)
    vocoder = load_vocoder(vocoder_file, **tokenizer.mel_settings())
    out = {"utts": len(real), "frame_rate_hz": tokenizer.frame_rate_hz, "vocoder": vocoder.name}
    if judge is None:
        return out
    out["real"] = judge_cer(judge, real, refs, lang)
    for name, discretize in (("copy_mel", False), ("copy_dmel", True)):
        wavs = copy_synthesis(real, tokenizer, vocoder, discretize, tokens)
        out[name] = judge_cer(judge, wavs, refs, lang)
        out[name]["mcd_dtw_db"] = mean_mcd(real, wavs, FS)
        out[name]["mcd_mel80_dtw_db"] = mean_mcd(real, wavs, FS, "mel")
    return out


def score_tts(dump: Path, decode: Path, lang: str, judge, images: Optional[Path], label: str,
              device: str = "cpu") -> dict:
    gen = read_wavs(decode / "wav.scp")
    refs = read_kv(dump / "text")
    real = {k: v for k, v in read_wavs(dump / "wav.scp").items() if k in gen}
    missing = sorted(set(refs) - set(gen))
    if missing:
        logging.warning("%s: %d utterances were not synthesized: %s", decode, len(missing), missing[:5])
    out, per_utt = {"utts": len(gen)}, {}
    if judge is not None:
        out["judge_synth"] = judge_cer(judge, gen, refs, lang, per_utt, "judge_synth")
    ended = read_kv(decode / "ended")
    out["eos_pct"] = 100.0 * float(np.mean([ended[k] == "true" for k in gen]))
    ratios = [len(gen[k]) / max(1, len(real[k])) for k in gen]
    out["length_ratio_mean"] = _mean(ratios)
    out["length_within_15pct"] = 100.0 * float(np.mean([abs(r - 1) <= LENGTH_TOLERANCE for r in ratios]))
    out["mcd_dtw_db"] = mean_mcd(real, gen, FS)
    out["mcd_analysis"] = "world"
    sim_target = {k: cosine_similarity(speaker_embedding(gen[k], FS, device), speaker_embedding(real[k], FS, device))
                  for k in gen}
    out["spk_sim_target"] = _mean(sim_target.values())
    add_values(per_utt, "spk_sim_target", sim_target)
    write_utt_scores(decode, per_utt)  # per-utterance figures, for the listening page
    if images is not None and gen:
        from espnet_ext.evaluation.plots import plot_mels

        key = sorted(gen)[0]
        tokenizer, _ = model_tokens(dump)
        feats = kaldiio.load_scp(str(decode / "feats.scp"))
        reference = tokenizer.log_mel(torch.from_numpy(real[key])[None])[0][0]
        plot_mels(feats[key], images / f"tts_{dump.name}_mel.png", reference=reference,
                  hop_length=tokenizer.hop_length, title=f"{label} {key}")
    return out


def read_compare(spec: str) -> dict:
    """``LABEL=<score.json>`` (score_sttatts / score_dmel output of a TTS set) -> a TTS row."""
    label, sep, path = spec.partition("=")
    if not sep:
        raise SystemExit(f"--compare_tts {spec!r}: expected LABEL=path/to/score.json")
    r = json.loads(Path(path).read_text(encoding="utf-8"))
    row = {"model": label, "set": Path(path).parent.name, "source": path}
    row.update({k: r[k] for k in ("utts", "judge_synth", "length_ratio_mean", "length_within_15pct", "mcd_dtw_db",
                                  "spk_sim_target") if k in r})
    if "mcd_dtw_db" in row and r.get("mcd_analysis") != "world":
        logging.warning("%s: MCD from the 80-band mel (scored before WORLD MCD): not compared; rescore it", path)
        del row["mcd_dtw_db"]
    return row


# -- RESULTS.md ---------------------------------------------------------------------------------
def _f(value, spec=".1f") -> str:
    return "-" if value is None else format(value, spec)


def _cer(r: dict, key: str, unit: str = "cer") -> str:
    return _f(r[key][unit]) if key in r else "-"


def tts_lines(rows: List[dict], refs: Dict[str, dict], judge_name: str) -> List[str]:
    head = ["model", "set", "utts", "judge CER %", "judge WER %", "ended with eos %", "mean length ratio",
            "length within ±15 %", "MCD-DTW dB", "MCD-DTW dB (80-band mel)", "spk sim to ref"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        other_judge = r.get("judge_synth", {}).get("judge", judge_name)
        model = r["model"] if other_judge == judge_name else f"{r['model']} (judge {other_judge})"
        cells = [model, r["set"], r["utts"], _cer(r, "judge_synth"), _cer(r, "judge_synth", "wer"),
                 _f(r.get("eos_pct")), _f(r.get("length_ratio_mean"), ".2f"), _f(r.get("length_within_15pct")),
                 _f(r.get("mcd_dtw_db"), ".2f"), "-", _f(r.get("spk_sim_target"), ".3f")]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    for name, ref in refs.items():
        rate, voc = f"{ref['frame_rate_hz']} Hz", ref["vocoder"]
        for key, label in (("real", "real recording"), ("copy_mel", f"copy-synthesis: mel {rate} + {voc}"),
                           ("copy_dmel", f"copy-synthesis: dMel {rate} + {voc}")):
            if key in ref:
                cells = [label, name, ref["utts"], _cer(ref, key), _cer(ref, key, "wer"), "-", "-", "-",
                         _f(ref[key].get("mcd_dtw_db"), ".2f"), _f(ref[key].get("mcd_mel80_dtw_db"), ".2f"), "-"]
                lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return lines


def write_results(path: Path, header: List[str], asr: List[dict], tts: List[dict], refs: Dict[str, dict],
                  recon: List[dict], figures: List[str], judge_name: str) -> None:
    lines = [*header, ""]
    if asr:
        lines += ["## ASR (the model's own decoding)", "",
                  "| model | set | utts | WER % | CER % |", "|---|---|---|---|---|"]
        lines += [f"| {r['model']} | {r['set']} | {r['utts']} | {r['default']['wer']:.1f} | {r['default']['cer']:.1f} |"
                  for r in asr] + [""]
    if tts:
        lines += ["## TTS (the judge ASR on the synthesized speech)", ""]
        lines += tts_lines(tts, refs, judge_name) + [""]
    if recon:
        lines += ["## Reconstruction: mel vs dMel through the same vocoder, judged by the same judge", ""]
        for result in recon:
            lines += markdown_table(result) + [""]
    if tts or recon:
        lines += [MCD_REPORT_NOTE, ""]
    if figures:
        lines += ["## Figures", ""] + [f"![{Path(f).stem}]({f})" for f in figures] + [""]
    write_text_atomic(path, "\n".join(lines))


def get_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lang", default="en", choices=("en", "ar"))
    p.add_argument("--exp_dir", required=True, help="exp/dmel_<tag>: one folder per job inside")
    p.add_argument("--jobs", nargs="+", required=True, choices=sorted(TASKS_OF_JOB))
    p.add_argument("--decode_name", required=True, help="decoding folder inside every job folder")
    p.add_argument("--dump_dir", required=True, help="dump/raw: reference text, audio and dMel tokens per set")
    p.add_argument("--test_sets", nargs="+", required=True)
    p.add_argument("--recon_sets", nargs="*", default=[], help="sets of the reconstruction check")
    p.add_argument("--recon_frame_rates", type=int, nargs="+", default=[40, 80])
    p.add_argument("--recon_max_utts", type=int, default=0,
                   help="a fixed random sample of N utterances per set; 0 = all")
    add_judge_arguments(p)
    p.add_argument("--vocoder_file", default=None, help="vocoder of the synthesis (default: Griffin-Lim)")
    p.add_argument("--compare_tts", nargs="*", default=[], help="LABEL=<score.json> rows of other systems")
    p.add_argument("--command", default="", help="the recipe command line, recorded in RESULTS.md")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    judge = judge_from_args(args)
    judge_name = judge.name if judge is not None else ""
    exp, dump_dir = Path(args.exp_dir), Path(args.dump_dir)
    tasks = {name: set_task(dump_dir / name) for name in args.test_sets}
    asr, tts, refs = [], [], {}
    for job in args.jobs:
        job_dir = exp / job
        for name in args.test_sets:
            if tasks[name] not in TASKS_OF_JOB[job]:
                continue
            dump, decode = dump_dir / name, job_dir / args.decode_name / name
            logging.info("scoring the %s model on %s (%s)", job, name, tasks[name])
            if tasks[name] == "asr":
                r = score_asr(dump, decode, args.lang)
            else:
                r = score_tts(dump, decode, args.lang, judge, job_dir / "images", job, args.device)
                if name not in refs:
                    refs[name] = tts_references(dump, judge, args.lang, args.vocoder_file)
            r.update(task=tasks[name], model=job, set=name)
            (decode / "score.json").write_text(json.dumps(r, indent=2), encoding="utf-8")
            (asr if tasks[name] == "asr" else tts).append(r)
        try:
            from espnet_ext.evaluation.plots import plot_training_curves

            plot_training_curves(job_dir, job_dir / "images" / "training_curves.png")
        except (FileNotFoundError, ValueError) as err:
            logging.warning("%s: no training curves: %s", job_dir, err)
    recon = []
    if judge is None and args.recon_sets:
        logging.warning("no judge ASR: the reconstruction check is skipped")
    elif args.recon_sets:
        vocoders = [args.vocoder_file] if args.vocoder_file else []
        for name in args.recon_sets:
            logging.info("reconstruction check on %s (%s Hz)", name, args.recon_frame_rates)
            recon.append(reconstruction_check(
                dump_dir / name, judge, args.lang, args.recon_frame_rates, vocoders, args.recon_max_utts,
                out=exp / "reconstruction" / name, images=exp / "images"))
    compare = [read_compare(spec) for spec in args.compare_tts]
    header = [f"# RESULTS: {exp.name}", "",
              f"- command: `{args.command}`" if args.command else "- command: (not recorded)",
              f"- scoring: `python -m espnet_ext.bin.score_dmel {shlex.join(sys.argv[1:] if argv is None else argv)}`",
              f"- judge ASR for TTS and reconstruction: {judge_name or 'none given (no intelligibility figures)'}"
              + (f" (decoding: {' '.join(args.judge_opts)})" if args.judge_opts else ""),
              f"- vocoder: {args.vocoder_file or 'Griffin-Lim'}"]
    figures = sorted(str(p.relative_to(exp)) for p in exp.glob("*/images/training_curves.png"))
    figures += sorted(str(p.relative_to(exp)) for p in exp.glob("*/images/tts_*_mel.png"))
    figures += sorted(str(p.relative_to(exp)) for p in exp.glob("images/reconstruction_*.png"))
    write_results(exp / "RESULTS.md", header, asr, tts + compare, refs, recon, figures, judge_name)
    for job in args.jobs:  # the model's own RESULTS.md travels in its zip
        job_dir = exp / job
        own = lambda rows: [r for r in rows if r["model"] == job]  # noqa: E731
        job_figures = sorted(str(p.relative_to(job_dir)) for p in job_dir.glob("images/*") if p.name in
                             ("training_curves.png",) or p.name.startswith("tts_"))
        job_refs = {k: v for k, v in refs.items() if any(r["set"] == k for r in own(tts))}
        write_results(job_dir / "RESULTS.md", [header[0].replace(exp.name, f"{exp.name}/{job}"), *header[1:]],
                      own(asr), own(tts), job_refs, recon, job_figures, judge_name)
    logging.info("wrote %s", exp / "RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
