"""Stage 2: format a data dir's audio (mono, --fs, 16-bit wav), filter, and report drops.

    python -m espnet_ext.bin.format_audio --in data/train --out dump/raw/train --fs 16000

Writes ``<out>/{wav.scp,text,utt2spk,spk2utt,utt2category,utt2num_samples}`` for the kept
utterances (audio under ``<out>/data/``) and ``<out>/dropped.txt`` with one line per dropped
utterance and the reason. Files are written under temporary names and renamed, so an
interrupted run leaves no half-written file; a rerun writes the same outputs.
"""
import argparse
import logging
import shutil
from collections import Counter
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tqdm import tqdm

from espnet_ext.audio.format import FormatResult, format_utterance
from espnet_ext.corpora.data_dir import read_kv

PASSTHROUGH = ("text", "utt2spk", "utt2category")
TARGET_SCP = "tgt_wav.scp"


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--in", dest="in_dir", required=True, help="Kaldi-style data dir (wav.scp, text, utt2spk)")
    p.add_argument("--out", required=True, help="output dump dir")
    p.add_argument("--fs", type=int, default=16000, help="target sampling rate in Hz")
    p.add_argument("--min_sec", type=float, default=0.1, help="drop utterances shorter than this (seconds)")
    p.add_argument("--max_sec", type=float, default=30.0, help="drop utterances longer than this (seconds)")
    p.add_argument("--allow_empty_text", action="store_true", help="keep utterances whose transcript is empty")
    p.add_argument("--nj", type=int, default=2, help="parallel worker processes")
    return p


def _job(args):
    return format_utterance(*args)


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    in_dir, out = Path(args.in_dir), Path(args.out)
    wav_scp = read_kv(in_dir / "wav.scp")
    text = read_kv(in_dir / "text") if (in_dir / "text").exists() else {}
    jobs = [
        (utt, src, out / "data" / f"{utt}.wav", text.get(utt, ""), args.fs, args.min_sec, args.max_sec,
         not args.allow_empty_text)
        for utt, src in wav_scp.items()
    ]
    # The lists name the wavs: remove them before any wav is rewritten, so an interrupted rerun
    # leaves no list over a mix of old and new audio (they are written again at the end).
    for name in ("wav.scp", TARGET_SCP):
        (out / name).unlink(missing_ok=True)
    results: list[FormatResult] = []
    with ProcessPoolExecutor(max_workers=max(1, args.nj)) as pool:
        for res in tqdm(pool.map(_job, jobs, chunksize=16), total=len(jobs), desc=f"format {in_dir.name}"):
            results.append(res)
        # VC data dirs also list the target speech: formatted the same way, and an utterance whose
        # target cannot be used is dropped with the target's reason.
        targets = {}
        if (in_dir / TARGET_SCP).exists():
            tgt_jobs = [
                (utt, src, out / "data" / f"{utt}_tgt.wav", "", args.fs, args.min_sec, args.max_sec, False)
                for utt, src in read_kv(in_dir / TARGET_SCP).items()
            ]
            targets = {r.utt_id: r for r in pool.map(_job, tgt_jobs, chunksize=16)}
    category = read_kv(in_dir / "utt2category") if (in_dir / "utt2category").exists() else {}
    for i, r in enumerate(results):
        t = targets.get(r.utt_id)
        needs_target = category.get(r.utt_id) == "vc" or t is not None
        if r.reason is None and needs_target and (t is None or t.reason is not None):
            results[i] = FormatResult(r.utt_id, r.num_samples, f"target speech: {t.reason if t else 'not listed'}")
    kept = {r.utt_id: r for r in results if r.reason is None}
    dropped = [r for r in results if r.reason is not None]
    notes = Counter(r.note for r in results if r.note)
    for note, count in sorted(notes.items()):  # e.g. "resampled 24000 -> 16000 Hz: 800 utterances"
        logging.info("%s: %s: %d utterance(s)", in_dir, note, count)
    for r in dropped:
        logging.warning("%s: dropped: %s", r.utt_id, r.reason)

    def write(name, mapping):
        tmp = out / f"{name}.tmp"
        tmp.write_text("".join(f"{k} {mapping[k]}\n" for k in sorted(mapping)), encoding="utf-8")
        tmp.replace(out / name)

    out.mkdir(parents=True, exist_ok=True)
    write("wav.scp", {k: out / "data" / f"{k}.wav" for k in kept})
    write("utt2num_samples", {k: r.num_samples for k, r in kept.items()})
    for name in PASSTHROUGH:
        if (in_dir / name).exists():
            table = read_kv(in_dir / name)
            write(name, {k: v for k, v in table.items() if k in kept})
    spk2utt = {}
    for utt, spk in read_kv(out / "utt2spk").items():
        spk2utt.setdefault(spk, []).append(utt)
    write("spk2utt", {s: " ".join(u) for s, u in spk2utt.items()})
    if targets:
        write(TARGET_SCP, {k: out / "data" / f"{k}_tgt.wav" for k in kept if k in targets})
    for extra in sorted(in_dir.glob("*.scp")):  # other per-utterance lists: keep rows of kept ones
        if extra.name not in ("wav.scp", TARGET_SCP):
            write(extra.name, {k: v for k, v in read_kv(extra).items() if k in kept})
    write("dropped.txt", {r.utt_id: r.reason for r in dropped})
    if (in_dir / "dropped_stage1.txt").exists():
        shutil.copy(in_dir / "dropped_stage1.txt", out / "dropped_stage1.txt")
    logging.info("%s: kept %d, dropped %d (see %s)", in_dir, len(kept), len(dropped), out / "dropped.txt")
    return 0 if kept else 1


if __name__ == "__main__":
    sys.exit(main())
