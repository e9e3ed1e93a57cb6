"""Parameter count of the SpeechT5 backbone per module, next to transformers' base ASR and TTS models.

    tools/venv/bin/python benchmarks/param_count_speecht5.py [--vocab_size 81]

Models are built on the meta device: shapes only, no memory, runs in seconds.
"""
import argparse

import torch

from espnet_ext.speecht5 import SpeechT5, SpeechT5Config


def count(module, seen):
    """Parameters of `module` not counted before (the tied embedding counts once)."""
    n = 0
    for p in module.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            n += p.numel()
    return n


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vocab_size", type=int, default=81, help="81 = transformers' English SpeechT5")
    parser.add_argument("--task_embed_dim", type=int, default=128, help="STTATTS task vector size")
    args = parser.parse_args()

    cfg = SpeechT5Config(vocab_size=args.vocab_size)
    with torch.device("meta"):
        model = SpeechT5(cfg)
    seen: set[int] = set()
    rows = [(name, count(getattr(model, name), seen)) for name, _ in model.named_children()]
    total = sum(n for _, n in rows)
    print(f"SpeechT5 backbone, base config, vocab {cfg.vocab_size}")
    for name, n in rows:
        note = "  (tied embedding, counted in text_encoder_prenet)" if name.startswith("text_decoder") else ""
        print(f"  {name:24s} {n / 1e6:8.3f}M{note}")
    print(f"  {'total (tied embedding once)':24s} {total / 1e6:8.3f}M")
    ctc = cfg.d_model * cfg.vocab_size + cfg.vocab_size
    fusion = (cfg.d_model + args.task_embed_dim) * cfg.d_model + cfg.d_model
    print(f"  + CTC head Linear(d_model, V)        {ctc / 1e6:8.3f}M")
    print(f"  + task fusion Linear(d+{args.task_embed_dim}, d)       {fusion / 1e6:8.3f}M")
    print(f"  = STTATTS model                      {(total + ctc + fusion) / 1e6:8.3f}M")

    from transformers import SpeechT5Config as HFConfig
    from transformers import SpeechT5ForSpeechToText, SpeechT5ForTextToSpeech

    hf_cfg = HFConfig(vocab_size=args.vocab_size)
    for cls in (SpeechT5ForSpeechToText, SpeechT5ForTextToSpeech):
        with torch.device("meta"):
            hf = cls(hf_cfg)
        print(f"transformers {cls.__name__}: {sum(p.numel() for p in hf.parameters()) / 1e6:.3f}M")


if __name__ == "__main__":
    main()
