"""Split a data dir in two by utterance order: the last N (e.g. a dev set) and the rest.

    python -m espnet_ext.bin.subset_data --in data/all --last 20 --out data/dev --rest data/train
"""
import argparse
import sys

from espnet_ext.corpora.data_dir import read_data_dir, read_kv, write_data_dir


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--in", dest="in_dir", required=True, help="input data dir")
    p.add_argument("--last", type=int, required=True, help="number of utterances (sorted by id) for --out")
    p.add_argument("--out", required=True, help="data dir of the last N utterances")
    p.add_argument("--rest", required=True, help="data dir of the other utterances")
    args = p.parse_args(argv)
    utts = sorted(read_data_dir(args.in_dir), key=lambda u: u.utt_id)
    if not 0 < args.last < len(utts):
        raise SystemExit(f"{args.in_dir} has {len(utts)} utterances: cannot hold out {args.last}")
    extra = {f.name: read_kv(f) for f in __import__("pathlib").Path(args.in_dir).glob("*.scp") if f.name != "wav.scp"}
    for part, out in ((utts[-args.last :], args.out), (utts[: -args.last], args.rest)):
        ids = {u.utt_id for u in part}
        write_data_dir(out, part, {n: {k: v for k, v in t.items() if k in ids} for n, t in extra.items()})
        print(f"{out}: {len(part)} utterances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
