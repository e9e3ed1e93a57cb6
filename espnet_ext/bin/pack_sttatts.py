"""Stage 8: pack an experiment as an ESPnet model-zoo zip.

    python -m espnet_ext.bin.pack_sttatts --exp_dir exp/sttatts_mini \
        --model_file exp/sttatts_mini/valid.loss.ave.pth --out exp/sttatts_mini/sttatts_mini.zip

The zip holds ``meta.yaml`` (with checksums), the training config (its token list is inline, as
ESPnet writes it), the model, the vocoder when given, ``RESULTS.md`` and the experiment's images
(training curves, attention maps, mel plots). It loads with
``espnet_model_zoo.downloader.ModelDownloader().download_and_unpack(zip)`` and with
``Speech2Text/Text2Speech/Speech2Speech.from_pretrained(model_tag=zip)``.
"""
import argparse
import sys
from pathlib import Path

from espnet_ext.zoo import pack_model

IMAGE_SUFFIXES = {".png", ".svg"}


def get_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp_dir", required=True, help="experiment folder with config.yaml")
    p.add_argument("--model_file", required=True, help="model to pack (e.g. the n-best average)")
    p.add_argument("--vocoder_file", default="", help="vocoder checkpoint to ship with the model")
    p.add_argument("--out", required=True, help="output zip")
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    exp = Path(args.exp_dir)
    for required in (exp / "config.yaml", Path(args.model_file)):
        if not required.is_file():
            raise SystemExit(f"cannot pack: {required} not found (did stage 5 finish?)")
    files = {"model_file": args.model_file}
    if args.vocoder_file:
        files["vocoder_file"] = args.vocoder_file
    option = [p for p in [exp / "RESULTS.md"] if p.is_file()]
    # not the listening page's per-utterance figures (samples/: a folder of its own, with its audio)
    option += sorted(p for p in exp.rglob("*") if p.suffix in IMAGE_SUFFIXES and not {"logdir", "samples"} & set(p.parts))
    out = pack_model(args.out, files=files, yaml_files={"train_config": exp / "config.yaml"}, option=option)
    print(f"packed {len(files) + 1 + len(option)} files -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
