"""Joint CTC/attention beam search over a batch of utterances (ESPnet's decisions, batched).

The search makes the decisions of ESPnet's ``BatchBeamSearch`` with our KV-cached text decoder
(``TextDecoderScorer``) and ``CTCPrefixScorer`` (through ``BlankFirstCTC``), step for step:

- scores: ``(1 - w) * log p_dec + w * (log psi(g + c) - log psi(g)) + score(g)``; specials that
  are never output get LOGZERO from the decoder; with CTC the labels scored by CTC are the
  ``int(1.5 * beam)`` best by the decoder term (ESPnet's pre-beam), eos is always scored;
- each step keeps the ``beam`` best (hypothesis, label) pairs of the utterance; those ending in
  eos leave the beam (kept if at least ``minlen`` steps were made), so the beam shrinks;
- at step ``maxlen - 1`` every running hypothesis gets an eos; with ``maxlenratio == 0``
  ESPnet's ``end_detect`` stops an utterance early; n-best = ended hypotheses by score;
- no ended hypothesis: the search is redone with ``minlenratio - 0.1`` (none if < 0.1).

What differs is how: utterances and hypotheses are rows of one decoder batch (B x beam rows, the
encoder memory shared by the rows of an utterance, finished utterances dropped from the batch),
and the CTC prefix scores come from ``CTCPrefixScorer`` (closed-form recursions instead of a loop
over frames). Hypotheses equal ESPnet's up to float rounding of near-equal scores.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from espnet.nets.beam_search import Hypothesis

from espnet_ext.sttatts.ctc_prefix_score import LOGZERO, CTCPrefixScorer

END_DETECT_M = 3  # ESPnet's end_detect: the last M hypothesis lengths ...
END_DETECT_D = float(np.log(1 * np.exp(-10)))  # ... all score this far below the best ended one


@dataclass
class BeamSearchOptions:
    """ESPnet's beam-search settings (``maxlenratio`` 0: max length = encoder frames, end detection
    on; < 0: a fixed max length; ``minlenratio`` < 0: a fixed min length)."""

    beam_size: int = 5
    ctc_weight: float = 0.5
    maxlenratio: float = 0.0
    minlenratio: float = 0.0
    pre_beam_ratio: float = 1.5


def length_limits(frames: int, maxlenratio: float, minlenratio: float, clamp_to_frames: bool) -> tuple[int, int]:
    """ESPnet's (maxlen, minlen) for an utterance of `frames` encoder frames; with CTC the max
    length is clamped to `frames` (a CTC path cannot emit more labels than frames)."""
    if maxlenratio == 0:
        maxlen = frames
    elif maxlenratio < 0:
        maxlen = -1 * int(maxlenratio)
    else:
        maxlen = max(1, int(maxlenratio * frames))
    if clamp_to_frames:
        maxlen = min(maxlen, frames)
    minlen = -1 * int(minlenratio) if minlenratio < 0 else int(minlenratio * frames)
    return maxlen, minlen


class _EndDetector:
    """ESPnet's ``end_detect`` on one utterance's ended hypotheses, kept as best score per length."""

    def __init__(self):
        self.best_by_length: Dict[int, float] = {}
        self.best = -float("inf")

    def add(self, length: int, score: float) -> None:
        self.best_by_length[length] = max(score, self.best_by_length.get(length, -float("inf")))
        self.best = max(self.best, score)

    def ended(self, i: int) -> bool:
        if not self.best_by_length:
            return False
        count = 0
        for m in range(END_DETECT_M):
            same = self.best_by_length.get(i - m)
            if same is not None and same - self.best < END_DETECT_D:
                count += 1
        return count == END_DETECT_M


@torch.no_grad()
def batch_beam_search(
    model,
    enc: torch.Tensor,
    memory: torch.Tensor,
    pad_mask: torch.Tensor,
    opts: BeamSearchOptions,
    forbidden: Sequence[int],
    ctc_logp: Optional[torch.Tensor] = None,
) -> List[List[Hypothesis]]:
    """Beam search for B utterances at once.

    Args:
        model: ESPnetSTTATTSModel (its ``decode_text`` / ``new_text_cache``; eos = decoder start).
        enc: (B, T, D) encoder output (what CTC reads; only its lengths are used here).
        memory: (B, T, D) what the decoder attends to; pad_mask: (B, T) True = padding.
        forbidden: label ids the decoder may never emit (LOGZERO).
        ctc_logp: (B, T, V) CTC log-probabilities with blank at id 0 (BlankFirstCTC), required
            when ``opts.ctc_weight > 0``.
    Returns:
        per utterance, its ended hypotheses sorted by score (ESPnet ``Hypothesis``: yseq with the
        start and end eos, score, scores per scorer), as ESPnet's ``BatchBeamSearch`` returns them.
    """
    lengths = (~pad_mask).sum(1)
    hyps = _search(model, memory, pad_mask, lengths, opts, forbidden, ctc_logp)
    redo = [b for b, h in enumerate(hyps) if not h]
    if redo and opts.minlenratio >= 0.1:  # ESPnet: retry with a smaller minimum length
        idx = torch.tensor(redo, device=memory.device)
        retry = BeamSearchOptions(**{**opts.__dict__, "minlenratio": max(0.0, opts.minlenratio - 0.1)})
        again = batch_beam_search(
            model, enc[idx], memory[idx], pad_mask[idx], retry, forbidden, None if ctc_logp is None else ctc_logp[idx]
        )
        for b, h in zip(redo, again):
            hyps[b] = h
    return hyps


def _search(model, memory, pad_mask, lengths, opts: BeamSearchOptions, forbidden, ctc_logp) -> List[List[Hypothesis]]:
    device = memory.device
    n_utt = memory.size(0)
    K = opts.beam_size
    eos = model.specials["eos"]
    V = len(model.token_list)
    w_ctc = opts.ctc_weight
    use_dec, use_ctc = w_ctc < 1.0, w_ctc > 0.0
    pre_beam = int(opts.pre_beam_ratio * K)
    do_pre_beam = use_dec and use_ctc and pre_beam < V  # ESPnet: pre-beam on the "full" (decoder) scores
    forbidden = torch.tensor(sorted(forbidden), dtype=torch.long, device=device)

    frames = lengths.tolist()
    limits = [length_limits(t, opts.maxlenratio, opts.minlenratio, use_ctc) for t in frames]
    maxlen = torch.tensor([m for m, _ in limits], device=device)
    minlen = [m for _, m in limits]

    active = torch.arange(n_utt, device=device)  # utterances still searching (rows: K per utterance)
    utt_rows = active.repeat_interleave(K)
    yseq = torch.full((n_utt * K, 1), eos, dtype=torch.long, device=device)
    score = torch.zeros(n_utt * K, dtype=torch.float32, device=device)
    totals = {"decoder": torch.zeros_like(score), "ctc": torch.zeros_like(score)}
    alive = (torch.arange(K, device=device) == 0).repeat(n_utt)  # one start hypothesis per utterance
    scorer = CTCPrefixScorer(ctc_logp, lengths, 0, eos) if use_ctc else None
    ctc_state = scorer.initial_state(utt_rows) if use_ctc else None
    cache = model.new_text_cache(share_cross=True) if use_dec else None
    mem, pad = memory, pad_mask
    ended: List[List[Hypothesis]] = [[] for _ in range(n_utt)]
    detectors = [_EndDetector() for _ in range(n_utt)]

    i = 0
    while active.numel() > 0:
        n_rows = yseq.size(0)
        last = yseq[:, -1]
        weighted = torch.zeros(n_rows, V, dtype=torch.float32, device=device)
        if use_dec:
            logits, _, cache = model.decode_text(last[:, None], mem, pad, cache, need_cross_attn=False)
            logp = torch.log_softmax(logits[:, -1].float(), dim=-1)
            logp[:, forbidden] = LOGZERO
            weighted += (1.0 - w_ctc) * logp
        if use_ctc:
            ids = torch.topk(weighted, pre_beam, dim=-1)[1] if do_pre_beam else None
            ctc_scores, candidates = scorer.score(ctc_state, utt_rows, last, i, ids)
            weighted += w_ctc * ctc_scores
        weighted += score[:, None]
        weighted[~alive] = float("-inf")

        n_act = active.numel()
        top_score, top_id = weighted.view(n_act, K * V).topk(K, dim=1)
        src = (torch.arange(n_act, device=device)[:, None] * K + torch.div(top_id, V, rounding_mode="floor")).view(-1)
        label = (top_id % V).view(-1)
        score = top_score.view(-1)
        if use_dec:
            totals["decoder"] = totals["decoder"][src] + logp[src, label]
            cache.reorder_(src)
        if use_ctc:
            totals["ctc"] = totals["ctc"][src] + ctc_scores[src, label]
            ctc_state = scorer.select(candidates, src, label)
        yseq = torch.cat([yseq[src], label[:, None]], dim=1)

        # post-process: eos at maxlen, ended hypotheses out of the beam, end detection
        at_max = (maxlen[utt_rows] - 1) == i
        is_end = (label == eos) | at_max
        alive = ~is_end & torch.isfinite(score)
        for row in torch.nonzero(is_end).view(-1).tolist():
            b = int(utt_rows[row])
            if i < minlen[b]:
                continue
            seq = yseq[row]
            if bool(at_max[row]):
                seq = torch.cat([seq, seq.new_tensor([eos])])
            scores = {k: totals[k][row] for k, used in (("decoder", use_dec), ("ctc", use_ctc)) if used}
            ended[b].append(Hypothesis(yseq=seq, score=score[row], scores=scores, states={}))
            detectors[b].add(len(seq), float(score[row]))
        running = alive.view(n_act, K).any(1) & ~at_max.view(n_act, K)[:, 0]
        if opts.maxlenratio == 0.0:
            for j, b in enumerate(active.tolist()):
                if running[j] and detectors[b].ended(i):
                    running[j] = False
        if not bool(running.all()):  # drop finished utterances from the batch
            keep = torch.nonzero(running).view(-1)
            rows = (keep[:, None] * K + torch.arange(K, device=device)).view(-1)
            active, utt_rows, yseq, score, alive = active[keep], utt_rows[rows], yseq[rows], score[rows], alive[rows]
            totals = {k: v[rows] for k, v in totals.items()}
            if use_dec:
                cache.select_groups(keep, K)
                mem, pad = mem[keep], pad[keep]
            if use_ctc:
                ctc_state = type(ctc_state)(ctc_state.r[:, :, rows], ctc_state.s[rows])
        i += 1
    return [sorted(h, key=lambda x: x.score, reverse=True) for h in ended]
