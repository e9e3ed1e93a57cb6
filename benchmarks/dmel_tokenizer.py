"""dMel tokenizer throughput on batched audio: ours (DMelTokenizer.encode) vs the `dmel` package.

    tools/venv/bin/python benchmarks/dmel_tokenizer.py [--threads 2] [--batch 16] [--seconds 10] \
        [--rate 40] [--repeat 9]

Issue 7, target 4: tokenizer throughput at least 2x the `dmel` package's on batched audio, same
tokens (each utterance compared with the package on it alone). Both tokenize the same batch (with bos/eos frames, as the package does; lengths spread
over 70-100 % of the longest) to the published 16-bin table; they alternate, `--repeat` rounds;
throughput = seconds of audio per second.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402  (first: sets OMP_WAIT_POLICY before torch loads)
import torch  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=common.THREADS)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--rate", type=int, default=40, choices=[40, 80])
    p.add_argument("--repeat", type=int, default=9)
    args = p.parse_args()
    common.setup(args.threads)
    start = time.time()
    common.header("dMel tokenizer throughput vs the dmel package (issue 7, target 4)", "python " + " ".join(sys.argv))

    import dmel

    from espnet_ext.dmel import DMelTokenizer

    reference = dmel.DiscretizedLogMelFbank(dmel.LogMelFbank(frame_stride_ms=1000 // args.rate), n_bits=4)
    ours = DMelTokenizer(frame_rate_hz=args.rate)
    n = int(16000 * args.seconds)
    gen = torch.Generator().manual_seed(0)
    lengths = torch.tensor([int(n * (1.0 - 0.3 * i / max(1, args.batch - 1))) for i in range(args.batch)])
    wav = 0.1 * torch.randn(args.batch, n, generator=gen)
    wav[torch.arange(n)[None] >= lengths[:, None]] = 0.0
    audio = float(lengths.sum()) / 16000
    print(f"batch {args.batch} x <= {args.seconds} s ({audio:.1f} s of audio), {args.rate} Hz frames")

    # Compared with the package on each utterance alone: on a padded batch the package lets the zero
    # padding into a shorter utterance's last frames, where ours gives every utterance its tokens alone.
    our_tokens, our_lengths = ours.encode(wav, lengths, add_bos_eos=True)
    same = True
    for b, length in enumerate(lengths.tolist()):
        ref_tokens, ref_length = reference(wav[b : b + 1, :length].clone(), torch.tensor([length]))
        m = int(ref_length[0])  # the package changes lengths in place; its frames past eos are not pad
        same &= m == int(our_lengths[b]) and torch.equal(ref_tokens[0, :m], our_tokens[b, :m])
    times = common.alternate(
        {"dmel": lambda: reference(wav, lengths.clone()), "ours": lambda: ours.encode(wav, lengths, add_bos_eos=True)},
        repeat=args.repeat,
    )
    common.report("throughput (s of audio / s)", "dmel package", [audio / t for t in times["dmel"]],
                  [audio / t for t in times["ours"]], 2.0, outputs=common.exact("tokens and lengths", same),
                  unit="x real time", higher_is_better=True)
    common.footer(start)


if __name__ == "__main__":
    main()
