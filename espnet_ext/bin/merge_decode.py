"""Merge the per-job output folders of a split inference run into one folder.

    python -m espnet_ext.bin.merge_decode --out exp/x/decode/test exp/x/decode/test/logdir/output.*

Every Kaldi-style text file (``key value`` lines: ``text``, ``token``, ``score``, ``wav.scp``,
``feats.scp``, ``speech_shape``, ...) found in the first job folder is concatenated over all jobs
and sorted by key, keeping its relative path. Binary files (ark, wav, png, npy) stay where the
jobs wrote them; the merged scp files point at them. A key found in two jobs is an error.
"""
import argparse
import sys
from pathlib import Path

BINARY = {".ark", ".wav", ".flac", ".png", ".npy", ".npz", ".pth"}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="merged output folder")
    p.add_argument("jobs", nargs="+", help="job output folders")
    args = p.parse_args(argv)
    jobs = sorted((Path(j) for j in args.jobs), key=lambda j: int(j.name.rsplit(".", 1)[-1]) if j.name[-1].isdigit() else 0)
    out = Path(args.out)
    names = [f.relative_to(jobs[0]) for f in jobs[0].rglob("*") if f.is_file() and f.suffix not in BINARY]
    for name in names:
        rows = {}
        for job in jobs:
            path = job / name
            if not path.exists():
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                key = line.split(" ", 1)[0]
                if key in rows:
                    raise SystemExit(f"key {key!r} of {name} appears in two jobs (second: {path})")
                rows[key] = line
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text("".join(rows[k] + "\n" for k in sorted(rows)), encoding="utf-8")
        tmp.replace(target)
    print(f"merged {len(jobs)} jobs, {len(names)} files -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
