"""Train a HiFi-GAN, Parallel WaveGAN or ISTFT vocoder on the acoustic model's mel settings.

    python -m espnet_ext.bin.train_vocoder --train_data_dir dump/raw/train --outdir exp/vocoder \\
        --vocoder_type hifigan [--valid_data_dir dump/raw/dev] [--config my.yaml] [--hop_length 400]

Data dirs are Kaldi-style (``wav.scp``). ``hifigan`` and ``parallel_wavegan`` run parallel_wavegan's
trainer; ``outdir`` gets ``checkpoint-<N>steps.pkl``, ``config.yml`` and ``stats.npy``. ``istft``
(ConvNeXt blocks at the frame rate + inverse STFT, the Vocos idea; fast to train on a CPU) runs our
own loop; ``outdir`` gets ``checkpoint-<N>steps.pth`` and ``config.yaml``. Either way pass the
checkpoint (or ``outdir``) as ``--vocoder_file``. The base configs are
``espnet_ext/vocoder/conf/<vocoder_type>.yaml``; ``--config`` overrides any of their keys.
"""
import argparse
import logging
import sys

import yaml
from espnet2.utils.types import str2bool

from espnet_ext.vocoder.features import add_mel_arguments, mel_from_args
from espnet_ext.vocoder.train import VOCODER_TYPES, train_vocoder


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train_data_dir", required=True, help="Kaldi-style data dir with wav.scp")
    p.add_argument("--valid_data_dir", default=None, help="default: hold out --n_valid training utterances")
    p.add_argument("--outdir", required=True, help="checkpoints, config.yml, stats.npy, dumped features")
    p.add_argument(
        "--vocoder_type", default="hifigan", choices=VOCODER_TYPES, help="istft: fast to train on a CPU (see above)"
    )
    p.add_argument("--config", default=None, help="YAML merged over the base config")
    p.add_argument("--train_max_steps", type=int, default=None, help="overrides the config's value")
    p.add_argument("--batch_size", type=int, default=None, help="overrides the config's value")
    p.add_argument("--normalize", type=str2bool, default=True, help="train on mean/std-normalised mels")
    p.add_argument("--n_valid", type=int, default=5, help="held-out utterances without --valid_data_dir")
    p.add_argument("--resume", default=None, help="checkpoint to resume from (istft: also outdir, its latest)")
    add_mel_arguments(p)
    return p


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    overrides = yaml.safe_load(open(args.config)) or {} if args.config else {}
    for key in ("train_max_steps", "batch_size"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    checkpoint = train_vocoder(
        args.train_data_dir,
        args.outdir,
        valid_dir=args.valid_data_dir,
        vocoder_type=args.vocoder_type,
        mel=mel_from_args(args),
        config=overrides,
        normalize=args.normalize,
        n_valid=args.n_valid,
        resume=args.resume,
    )
    print(checkpoint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
