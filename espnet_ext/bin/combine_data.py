"""Combine data dirs (e.g. ASR + TTS + VC sets) into one, optionally balancing ASR and TTS hours.

    python -m espnet_ext.bin.combine_data --out data/train data/ls_train data/ltts_train \
        [--asr_tts_hours_ratio 1.0] [--seed 0]

Every file present in all inputs (wav.scp, text, utt2spk, utt2category, extra *.scp) is
concatenated, and ``tgt_wav.scp`` (VC targets) from the inputs that have it; ``spk2utt`` is rebuilt. With ``--asr_tts_hours_ratio R`` the ASR utterances are
subsampled (randomly, seeded) until ASR hours <= R x TTS hours (the paper balances the two tasks);
the dropped utterances are listed in ``<out>/dropped_balance.txt``.
"""
import argparse
import random
import sys
from pathlib import Path

import soundfile as sf

from espnet_ext.corpora.data_dir import read_kv

# Lists that only some utterances have (VC targets): kept even when an input lacks them.
PARTIAL = {"tgt_wav.scp"}


def duration(path: str) -> float:
    info = sf.info(path)
    return info.frames / info.samplerate


def balance(categories: dict, wav_scp: dict, ratio: float, seed: int) -> set:
    """Utterance ids of ASR utterances to drop so that ASR hours <= ratio x TTS hours."""
    dur = {u: duration(wav_scp[u]) for u, c in categories.items() if c in ("asr", "tts")}
    tts = sum(d for u, d in dur.items() if categories[u] == "tts")
    asr_utts = sorted(u for u in dur if categories[u] == "asr")
    random.Random(seed).shuffle(asr_utts)
    budget, kept = ratio * tts, 0.0
    drop = set()
    for u in asr_utts:
        if kept + dur[u] <= budget:
            kept += dur[u]
        else:
            drop.add(u)
    return drop


def get_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output data dir")
    p.add_argument("inputs", nargs="+", help="input data dirs")
    p.add_argument("--asr_tts_hours_ratio", type=float, default=0.0, help="0 = no balancing")
    p.add_argument("--seed", type=int, default=0, help="seed of the balancing subsample")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    inputs = [Path(d) for d in args.inputs]
    present = [{f.name for f in d.iterdir() if f.is_file()} for d in inputs]
    names = set.intersection(*present) | (PARTIAL & set.union(*present))
    names = sorted(n for n in names if n in ("text", "utt2spk", "utt2category") or n.endswith(".scp"))
    tables = {}
    for name in names:
        merged = {}
        for d in inputs:
            if not (d / name).exists():  # a PARTIAL list (e.g. VC targets) absent from this input
                continue
            for k, v in read_kv(d / name).items():
                if k in merged:
                    raise SystemExit(f"duplicate utterance id {k!r} in {d / name} (already in another input)")
                merged[k] = v
        tables[name] = merged
    drop = set()
    if args.asr_tts_hours_ratio > 0:
        drop = balance(tables["utt2category"], tables["wav.scp"], args.asr_tts_hours_ratio, args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def write(name, mapping):
        tmp = out / f"{name}.tmp"
        tmp.write_text("".join(f"{k} {mapping[k]}\n" for k in sorted(mapping)), encoding="utf-8")
        tmp.replace(out / name)

    for name, table in tables.items():
        write(name, {k: v for k, v in table.items() if k not in drop})
    spk2utt = {}
    for utt, spk in sorted(tables["utt2spk"].items()):
        if utt not in drop:
            spk2utt.setdefault(spk, []).append(utt)
    write("spk2utt", {s: " ".join(u) for s, u in spk2utt.items()})
    write("dropped_balance.txt", {u: "asr/tts hours balancing" for u in drop})
    print(f"combined {len(inputs)} dirs into {out}: {len(tables['wav.scp']) - len(drop)} utterances, {len(drop)} dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
