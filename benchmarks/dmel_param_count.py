"""Parameter counts of the dMel LM sizes (conf/dmel_{small,base,large}.yaml) against the paper's Table 9.

    tools/venv/bin/python benchmarks/dmel_param_count.py [--materialize small base] [--vocab 38]

Every size is built on the ``meta`` device (no weight memory) and its parameters counted, and the
closed-form ``count_parameters`` is checked against it. ``--materialize`` also builds the named
sizes on the CPU with real weights (Base: about 1 GB; Large: about 5.5 GB of float32).
"""
import argparse
import time
from pathlib import Path

import torch
import yaml

from espnet_ext.dmel.model import DMelLM, DMelLMConfig, count_parameters

CONF = Path(__file__).resolve().parents[1] / "conf"
PAPER = {"small": 59e6, "base": 258e6, "large": 1.3e9}  # Table 9
# make_token_list on English text: 4 specials + 26 letters, space, apostrophe + a few punctuation
# marks (32 characters) + <mask>, <ctc_blank>.
CHAR_VOCAB = 38


def config(size: str, vocab: int) -> DMelLMConfig:
    lm_conf = yaml.safe_load((CONF / f"dmel_{size}.yaml").read_text())["lm_conf"]
    return DMelLMConfig(text_vocab_size=vocab, **lm_conf)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vocab", type=int, default=CHAR_VOCAB, help="text vocabulary size (characters + specials)")
    p.add_argument("--materialize", nargs="*", default=[], choices=list(PAPER), help="also build these on the CPU")
    args = p.parse_args(argv)
    print(f"{'size':6} {'layers':>6} {'heads':>5} {'D':>5} {'parameters':>14} {'paper':>8} {'diff':>7}")
    for size, paper in PAPER.items():
        cfg = config(size, args.vocab)
        with torch.device("meta"):
            n = sum(p.numel() for p in DMelLM(cfg).parameters())
        assert n == count_parameters(cfg), (size, n, count_parameters(cfg))
        print(f"{size:6} {cfg.n_layer:6d} {cfg.n_head:5d} {cfg.n_embd:5d} {n:14,d} {paper / 1e6:7.0f}M {100 * (n / paper - 1):+6.1f}%")
    for size in args.materialize:
        start = time.time()
        n = sum(p.numel() for p in DMelLM(config(size, args.vocab)).parameters())
        print(f"{size}: built on CPU with real weights in {time.time() - start:.1f} s: {n:,d} parameters")


if __name__ == "__main__":
    main()
