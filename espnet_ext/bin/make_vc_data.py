"""Voice-conversion data dirs from CMU Arctic: source speech -> the same prompt by a target speaker.

    python -m espnet_ext.bin.make_vc_data --root CMU_ARCTIC_ROOT --train_out data/vc_train \
        --dev_out data/vc_dev --test_out data/test_vc [--speakers bdl slt ...] [--heldout_prompts 10]

Utterance ids are ``<tgt>_vc_<src>_<prompt>`` (the speaker is the TARGET: its embedding steers the
synthesis). ``wav.scp`` holds the SOURCE audio, ``tgt_wav.scp`` the target audio, ``text`` the prompt.
The last ``--heldout_prompts`` prompts (by id) are held out: the first half of them for dev, the
rest for test, so test sentences are never seen in training.
"""
import argparse
import logging
import sys

from espnet_ext.corpora import CorpusLayoutError, Utterance, make_vc_pairs, prepare_cmu_arctic
from espnet_ext.corpora.cmu_arctic import list_speakers
from espnet_ext.corpora.data_dir import write_data_dir
from espnet_ext.corpora.utterance import MAX_BAD_FRACTION, check_bad_fraction
from espnet_ext.text.normalize import normalize


def get_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True, help="folder that contains cmu_us_<spk>_arctic/")
    p.add_argument("--speakers", nargs="*", default=None, help="speakers to pair (default: all found)")
    p.add_argument("--heldout_prompts", type=int, default=10, help="prompts held out for dev + test")
    p.add_argument("--normalize", default="en", choices=("none", "en"), help="text normalisation")
    p.add_argument(
        "--max_bad_fraction",
        type=float,
        default=MAX_BAD_FRACTION,
        help="unparseable txt.done.data lines are skipped with a warning naming file and line; fail when more "
        "than this share of all speakers' lines is unreadable (default: %(default)s)",
    )
    p.add_argument("--train_out", required=True)
    p.add_argument("--dev_out", required=True)
    p.add_argument("--test_out", required=True)
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    speakers = args.speakers or list_speakers(args.root)
    if len(speakers) < 2:
        raise SystemExit(f"VC needs at least two CMU Arctic speakers under {args.root}, found {speakers}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    skipped = []
    read = {s: prepare_cmu_arctic(args.root, s, skipped=skipped) for s in speakers}
    try:
        check_bad_fraction(f"CMU Arctic {' '.join(speakers)}", sum(map(len, read.values())), skipped,
                           args.max_bad_fraction)
    except CorpusLayoutError as err:
        logging.error("%s", err)
        return 1
    by_spk = {s: [u for u in utts if u.audio.is_file()] for s, utts in read.items()}
    prompts = sorted({u.extra["prompt_id"] for utts in by_spk.values() for u in utts})
    heldout = prompts[len(prompts) - args.heldout_prompts :] if args.heldout_prompts else []
    dev_prompts = set(heldout[: len(heldout) // 2])
    test_prompts = set(heldout) - dev_prompts
    splits = {"train": [], "dev": [], "test": []}
    for src, tgt in make_vc_pairs(by_spk):
        pid = src.extra["prompt_id"]
        text = normalize(src.text, "en") if args.normalize == "en" else src.text
        utt = Utterance(f"{tgt.speaker}_vc_{src.speaker}_{pid}", tgt.speaker, src.audio, text, "vc", {"tgt": tgt.audio})
        split = "dev" if pid in dev_prompts else "test" if pid in test_prompts else "train"
        splits[split].append(utt)
    for split, out in (("train", args.train_out), ("dev", args.dev_out), ("test", args.test_out)):
        utts = splits[split]
        write_data_dir(out, utts, extra_scp={"tgt_wav.scp": {u.utt_id: u.extra["tgt"] for u in utts}})
        print(f"VC {split}: {len(utts)} pairs -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
