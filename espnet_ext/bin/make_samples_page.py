r"""Stage 7: the listening page, ``<out>/index.html`` with the audio and images it uses
(``espnet_ext.evaluation.samples_page``).

    python -m espnet_ext.bin.make_samples_page --dump_dir dump/raw \
        --test_sets test_asr_test_clean test_tts_test_clean test_vc \
        --system sttatts_mini=exp/sttatts_sttatts_mini/decode_x --out exp/sttatts_sttatts_mini/samples \
        [--compare long=exp/sttatts_sttatts_mini_long/decode_x ../../dmel1/exp/dmel_x/tts/decode_y]
"""
import argparse
import logging
import sys

from espnet_ext.evaluation.samples_page import UTTS_PER_SET, SamplesPage, System


def get_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dump_dir", required=True, help="dump/raw: reference text and audio per test set")
    p.add_argument("--test_sets", nargs="+", required=True, help="sets to show (TTS sets first, then VC, then ASR)")
    p.add_argument("--system", action="append", required=True, metavar="LABEL=DECODE_DIR",
                   help="the recipe's own decode dir (one folder per test set inside); repeat for several models")
    p.add_argument("--compare", nargs="*", default=[], metavar="[LABEL=]DECODE_DIR",
                   help="other systems' decode dirs, added as columns (label: the folder above DECODE_DIR)")
    p.add_argument("--out", required=True, help="folder of index.html, audio/ and images/ (e.g. exp/<tag>/samples)")
    p.add_argument("--lang", default="en", choices=("en", "ar"), help="text normalisation of the error marks")
    p.add_argument("--vocoder_file", default=None,
                   help="the vocoder of the synthesis: its copy-synthesis of the recording is a column")
    p.add_argument("--utts_per_set", type=int, default=UTTS_PER_SET, help="utterances shown per test set")
    p.add_argument("--title", default="", help="page title (default: the folder above --out)")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    systems = [System.parse(spec) for spec in args.system + args.compare]
    page = SamplesPage(args.out, args.dump_dir, systems, args.lang, args.vocoder_file, args.utts_per_set,
                       args.title).write(args.test_sets)
    logging.info("listening page: %s", page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
