"""How each cost grows with input length (5 / 10 / 20 / 30 s), STTATTS base size.

    tools/venv/bin/python benchmarks/scaling.py [--threads 2] [--seconds 5 10 20 30] [--steps 8]

Issue 7, target 5: encoder (quadratic attention, linear everything else) vs KV-cached decoding
(per step: linear in the encoder length through cross-attention and in the steps so far through
self-attention, constant in the weights read).

Model: our base STTATTS model (random weights, SpeechT5 base sizes). Per length L:
- speech encoder: `encode("asr", [wav])` (conv feature extractor, relative-position encoder,
  task fusion) on L seconds (T = 50 L frames);
- ASR decoder step (greedy, 1 row) and beam-5 step (5 rows sharing the encoder memory), KV
  cache warm, memory of T frames; median over `--steps` steps;
- CTC prefix scoring of one beam-5 step (7 candidates per hypothesis, closed-form recursion
  over the T frames) and ESPnet's CTCPrefixScoreTH for the same step (a loop over frames): both
  scorers are first walked along the same 10-label prefixes, and their scores of the timed step
  must agree within CTC_TOLERANCE (else the run is INVALID and exits with status 1);
- TTS decoder step after 12.5 L steps (the step count of L seconds of speech at r = 2), text of 15 L
  characters as memory.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import common  # noqa: E402  (first: sets OMP_WAIT_POLICY before torch loads)
import torch  # noqa: E402

PREFIX, CANDIDATES = 10, 7  # labels of the hypotheses before the timed step; labels scored per hypothesis
# max |score difference| (log domain) between our float64 closed form and ESPnet's float32 loop
# over frames: ESPnet's rounding grows with the frames (measured: 1.2e-4 at 5 s = 249 frames); a
# wrong recursion is off by far more (a score is the log-probability of a whole prefix)
CTC_TOLERANCE = 1e-2
LOGZERO_HALF = -5e9  # scores below are "not scored" (both scorers' log 0 is -1e10)


def build():
    from espnet_ext.tasks.sttatts import STTATTSTask

    args = STTATTSTask.get_parser().parse_args(["--token_list", "unused", "--output_dir", "unused"])
    args.token_list = common.token_list()
    torch.manual_seed(0)
    model = STTATTSTask.build_model(args).eval()
    model.backbone.speech_decoder_prenet.dropout_at_inference = False
    return model


def candidates(labels: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """(N, CANDIDATES) distinct labels in 3..77 per hypothesis, the first = `labels` (N,)."""
    rows = []
    for label in labels.tolist():
        others = [c for c in (torch.randperm(75, generator=gen) + 3).tolist() if c != label]
        rows.append([label, *others[: CANDIDATES - 1]])
    return torch.tensor(rows)


def walk_prefixes(ours, ref, ys: torch.Tensor, gen: torch.Generator):
    """Both scorers' states of the prefixes ys (N, 1 + PREFIX) (start symbol first), built label by
    label as a beam search does (each step scores candidates that include the path's next label)."""
    n = ys.size(0)
    utt = torch.zeros(n, dtype=torch.long)
    state, ref_state = ours.initial_state(utt), None
    for step in range(ys.size(1) - 1):
        label = ys[:, step + 1]
        ids = candidates(label, gen)
        _, cand = ours.score(state, utt, ys[:, step], step, ids)
        state = ours.select(cand, torch.arange(n), label)
        _, full = ref(list(ys[:, : step + 1]), ref_state, ids)
        ref_state = ref.index_select_state(full, (torch.arange(n) * ref.odim + label)[None])
    return utt, state, ref_state


def score_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| over the labels both scored; inf if they scored different labels."""
    scored_a, scored_b = a > LOGZERO_HALF, b > LOGZERO_HALF
    if not torch.equal(scored_a, scored_b):
        return float("inf")
    return float((a[scored_a] - b[scored_b]).abs().max())



def per_call(fn, n: int) -> float:
    """Median seconds of `n` calls of fn()."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return common.median(times)


@torch.no_grad()
def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=common.THREADS)
    p.add_argument("--seconds", type=float, nargs="+", default=[5, 10, 20, 30])
    p.add_argument("--steps", type=int, default=8)
    args = p.parse_args()
    common.setup(args.threads)
    start = time.time()
    common.header("Cost growth with input length (issue 7, target 5)", "python " + " ".join(sys.argv))
    from espnet.nets.ctc_prefix_score import CTCPrefixScoreTH

    from espnet_ext.bin.sttatts_inference import BlankFirstCTC, never_output_ids
    from espnet_ext.sttatts.ctc_prefix_score import CTCPrefixScorer

    model = build()
    eos = model.specials["eos"]
    ctc_view = BlankFirstCTC(model.ctc, model.specials["blank"], never_output_ids(model))
    gen = torch.Generator().manual_seed(1)
    rows = []
    for seconds in args.seconds:
        wav = 0.1 * torch.randn(int(16000 * seconds), generator=gen)
        model.encode("asr", [wav])  # warm-up at this length
        t_enc = per_call(lambda: model.encode("asr", [wav]), 2)
        enc, pad, memory = model.encode("asr", [wav])
        frames = enc.size(1)

        def decoder_step(n_rows):
            cache = model.new_text_cache(share_cross=True)
            tok = torch.full((n_rows, 1), eos)
            for _ in range(4):  # warm cache (cross keys/values projected once)
                model.decode_text(tok, memory, pad, cache)
            return per_call(lambda: model.decode_text(tok, memory, pad, cache), args.steps)

        t_greedy, t_beam = decoder_step(1), decoder_step(5)
        # CTC prefix scoring of one step of a 5-hypothesis beam with 7 candidates each, after 10 labels
        logp = ctc_view.log_softmax(enc)
        ys = torch.randint(3, 78, (5, 1 + PREFIX), generator=gen)
        ys[:, 0] = eos
        ours = CTCPrefixScorer(logp, torch.tensor([frames]), 0, eos)
        ref = CTCPrefixScoreTH(logp.clone(), torch.tensor([frames]), 0, eos)
        utt, state, ref_state = walk_prefixes(ours, ref, ys, gen)
        ids = candidates(ys[:, -1], gen)  # repeating the last label is a candidate: CTC needs a blank between
        diff = score_diff(ours.score(state, utt, ys[:, -1], PREFIX, ids)[0], ref(list(ys), ref_state, ids)[0])
        common.check_outputs(f"{seconds:.0f} s: CTC prefix scores, ours vs ESPnet",
                             common.within("scores of the same prefixes", diff, CTC_TOLERANCE))
        t_ctc = per_call(lambda: ours.score(state, utt, ys[:, -1], PREFIX, ids), args.steps)
        t_ctc_ref = per_call(lambda: ref(list(ys), ref_state, ids), max(2, args.steps // 4))
        # TTS: text of 15 characters per second; decoder step after 12.5 steps per second of speech
        tokens = torch.randint(4, 79, (1, int(15 * seconds)), generator=gen)
        _, tpad, tmem = model.encode("tts", tokens=tokens, token_lengths=torch.tensor([tokens.size(1)]))
        cache = model.new_speech_cache()
        frame, spk = torch.zeros(1, 1, 80), torch.randn(1, 512, generator=gen)
        model.decode_speech(torch.zeros(1, int(12.5 * seconds), 80), spk, tmem, tpad, cache, need_cross_attn=False,
                            run_postnet=False)  # the cache holds the steps made so far
        t_tts = per_call(lambda: model.decode_speech(frame, spk, tmem, tpad, cache, need_cross_attn=False,
                                                     run_postnet=False), args.steps)
        rows.append((seconds, frames, t_enc, t_greedy, t_beam, t_ctc, t_ctc_ref, int(12.5 * seconds), t_tts))
        print(f"  {seconds:.0f} s done", flush=True)
    print("| speech (s) | encoder frames T | encoder (s) | encoder per second of speech (ms) | ASR decoder step, 1 row (ms) "
          "| ASR decoder step, beam 5 (ms) | CTC prefix scores, beam-5 step: ours (ms) | same step, ESPnet CTCPrefixScoreTH (ms) "
          "| TTS decoder step after n steps (ms) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s, t, enc, g, b, c, cr, n, tts in rows:
        print(f"| {s:.0f} | {t} | {enc:.2f} | {1000 * enc / s:.0f} | {1000 * g:.1f} | {1000 * b:.1f} | {1000 * c:.2f} "
              f"| {1000 * cr:.1f} | {1000 * tts:.1f} (n = {n}) |")
    common.footer(start)


if __name__ == "__main__":
    main()
