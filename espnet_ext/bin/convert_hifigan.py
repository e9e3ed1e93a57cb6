"""Convert a Hugging Face SpeechT5 HiFi-GAN (``microsoft/speecht5_hifigan``) for our vocoder loader.

    python -m espnet_ext.bin.convert_hifigan --src HF_DIR --out DIR

``HF_DIR`` holds ``config.json`` + ``model.safetensors`` (or ``pytorch_model.bin``). ``DIR`` gets
``config.yaml`` (generator sizes, mel settings) and ``model.pth``, which
``espnet_ext.vocoder.load_vocoder(DIR)`` and the recipes' ``--vocoder_file`` accept. The
vocoder's mel mean / scale statistics are kept (it normalises its input with them).
"""
import argparse
import logging
import sys

from espnet_ext.vocoder.features import add_mel_arguments, check_mel_compatible, mel_from_args
from espnet_ext.vocoder.hifigan import save_hifigan
from espnet_ext.vocoder.speecht5_hifigan import implied_mel, load_speecht5_hifigan


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--src", required=True, help="Hugging Face SpeechT5HifiGan directory")
    p.add_argument("--out", required=True, help="output directory")
    add_mel_arguments(p)  # recorded in config.yaml; rate and hop are checked against the model
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    mel = mel_from_args(args)
    generator = load_speecht5_hifigan(args.src)
    check_mel_compatible(implied_mel(args.src, generator, mel), mel, f"SpeechT5 HiFi-GAN {args.src}")
    out = save_hifigan(args.out, generator, mel, source=args.src)
    n_params = sum(p.numel() for p in generator.parameters())
    logging.info("wrote %s (%.2fM parameters, hop %d, %d Hz)", out, n_params / 1e6, mel.hop_length, mel.fs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
