"""Greedy text decoding and autoregressive speech synthesis on a SpeechT5 backbone (KV-cached).

Reference loops for parity with transformers and for simple inference; beam search with CTC
lives in the inference classes. Both start from an encoder output `memory` (B, T, D).
"""
from __future__ import annotations

from collections.abc import Collection

import torch

from espnet_ext.speecht5.model import SpeechT5


@torch.no_grad()
def greedy_decode_text(
    model: SpeechT5,
    memory: torch.Tensor,
    memory_pad_mask: torch.Tensor,
    max_new_tokens: int,
    return_logp: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Greedy ASR decoding of a batch.

    Returns (B, 1 + n) token ids: the decoder start (eos) then the hypothesis; after a sequence's
    eos its entries are pad_id (the layout of transformers' `generate`). With `return_logp`, also
    (B, n) the log-probability of each chosen token (meaningless after the sequence's eos).
    """
    cfg = model.cfg
    b = memory.size(0)
    tokens = torch.empty((b, 1 + max_new_tokens), dtype=torch.long, device=memory.device)
    tokens[:, 0] = cfg.eos_id
    logps = []
    finished = torch.zeros(b, dtype=torch.bool, device=memory.device)
    cache = model.new_cache()
    n = 0
    while n < max_new_tokens:
        logits, _, cache = model.decode_text(tokens[:, n : n + 1], memory, memory_pad_mask, cache, need_cross_attn=False)
        next_token = logits[:, -1].argmax(-1)
        if return_logp:
            logps.append(torch.log_softmax(logits[:, -1].float(), -1).gather(1, next_token[:, None]))
        n += 1
        tokens[:, n] = next_token.masked_fill_(finished, cfg.pad_id)
        finished |= next_token == cfg.eos_id
        if bool(finished.all()):
            break
    tokens = tokens[:, : n + 1]
    if return_logp:
        return tokens, torch.cat(logps, dim=1) if logps else memory.new_zeros(b, 0)
    return tokens


@torch.no_grad()
def synthesize_speech(
    model: SpeechT5,
    memory: torch.Tensor,
    memory_pad_mask: torch.Tensor,
    spembs: torch.Tensor | None,
    threshold: float = 0.5,
    minlenratio: float = 0.0,
    maxlenratio: float = 20.0,
    stop_rule: str = "any",
    need_attn: bool | Collection[int] = False,
) -> list[dict[str, torch.Tensor]]:
    """Autoregressive mel generation, r frames per step; the postnet runs once per utterance at the end.

    A step's input is the last of the r frames predicted before (zero frame first). Utterance i
    stops at the first step s >= minlen_i with stop_rule satisfied, or at s = maxlen_i, where
    min/maxlen_i = int(T_i * ratio / r) for its encoder length T_i. stop_rule "any": one of the r
    stop probabilities >= threshold (fairseq SpeechT5, ESPnet); "sum": their sum >= threshold
    (transformers' generate_speech). A batch runs until its last utterance stops; each utterance
    gets the frames it gets alone (its own lengths and stop step; rows are independent).

    Args:
        need_attn: cross-attention to return: True = every decoder layer, a collection of layer
            indices = those layers, False = none (every layer then uses the fused kernel).
    Returns per utterance: feat_before / feat_after (s*r, n_mels), prob (s*r,) stop probabilities,
    stop_fired (bool: the stop rule ended it, not maxlen), and att_ws (layers, H, s, T_i)
    cross-attention of the requested layers if need_attn.
    """
    if stop_rule not in ("any", "sum"):
        raise ValueError("stop_rule must be 'any' or 'sum'")
    cfg = model.cfg
    r = cfg.reduction_factor
    b = memory.size(0)
    lengths = (~memory_pad_mask).sum(1).tolist()
    maxlen = [int(t * maxlenratio / r) for t in lengths]
    minlen = [int(t * minlenratio / r) for t in lengths]
    layers = None if need_attn is False else (None if need_attn is True else sorted(need_attn))
    frame = memory.new_zeros(b, 1, cfg.num_mel_bins)
    cache = model.new_cache()
    befores, probs, atts = [], [], []
    stop_step = [0] * b
    fired = [False] * b
    step = 0
    while not all(stop_step):
        step += 1
        before, _, stop_logits, cross_attn, cache = model.decode_speech(
            frame, spembs, memory, memory_pad_mask, cache, need_cross_attn=need_attn, run_postnet=False
        )
        prob = torch.sigmoid(stop_logits)  # (B, r)
        befores.append(before)
        probs.append(prob)
        if need_attn is not False:
            kept = cross_attn if layers is None else [cross_attn[i] for i in layers]
            atts.append(torch.stack(kept, dim=1))  # (B, layers, H, 1, T)
        frame = before[:, -1:]
        hit = ((prob >= threshold).any(-1) if stop_rule == "any" else prob.sum(-1) >= threshold).tolist()
        for i in range(b):
            if stop_step[i] == 0 and step >= minlen[i] and (hit[i] or step >= maxlen[i]):
                stop_step[i] = step
                fired[i] = hit[i]
    before_all, prob_all = torch.cat(befores, dim=1), torch.cat(probs, dim=1)
    att_all = torch.cat(atts, dim=3) if atts else None
    outputs = []
    for i in range(b):
        n = stop_step[i] * r
        feat_before = before_all[i, :n]
        out = {  # the postnet per utterance: its convolutions must see their own zero padding
            "feat_before": feat_before,
            "feat_after": model.speech_decoder_postnet.postnet(feat_before[None])[0],
            "prob": prob_all[i, :n],
            "stop_fired": fired[i],
        }
        if att_all is not None:
            out["att_ws"] = att_all[i, :, :, : stop_step[i], : lengths[i]]
        outputs.append(out)
    return outputs


def ctc_greedy_draft(ctc_logp: torch.Tensor, blank_id: int) -> list[int]:
    """CTC best path of one utterance: (T, V) log-probs (valid frames only) -> label ids
    (per-frame argmax, repeats merged, blanks dropped)."""
    best = ctc_logp.argmax(-1)
    keep = torch.ones_like(best, dtype=torch.bool)
    keep[1:] = best[1:] != best[:-1]
    return [t for t in best[keep].tolist() if t != blank_id]


MIN_DRAFT = 8  # draft labels per verification pass after a rejection, at least


class _DraftPointer:
    """Where the decoder's output stands in the CTC draft. A token equal to the expected draft
    label (or to one of the next two: the decoder skipped a label; or to the previous one: it
    inserted a label) keeps the two in step; any other token is taken as a substitution, and
    the search goes step by step until the decoder meets the draft again."""

    def __init__(self, draft: list[int]):
        self.draft, self.pos, self.synced = draft, 0, True

    def advance(self, token: int) -> None:
        for j in (self.pos, self.pos + 1, self.pos + 2, self.pos - 1):
            if 0 <= j < len(self.draft) and self.draft[j] == token:
                self.pos, self.synced = j + 1, True
                return
        self.pos, self.synced = self.pos + 1, False

    def proposal(self, eos_id: int, room: int, limit: int | None = None) -> list[int]:
        """The rest of the draft then eos, at most `room` (and `limit`) labels; none while out of step."""
        room = room if limit is None else min(room, limit)
        return (self.draft[self.pos :] + [eos_id])[:room] if self.synced else []


@torch.no_grad()
def ctc_drafted_greedy_decode_text(
    model: SpeechT5,
    memory: torch.Tensor,
    memory_pad_mask: torch.Tensor,
    draft: list[int],
    max_new_tokens: int,
    stats: dict | None = None,
    margin: float = 1e-4,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy decoding of ONE utterance (memory (1, T, D)) with a CTC draft verified in one pass.

    The draft (e.g. `ctc_greedy_draft`) proposes the rest of the hypothesis; one teacher-forced
    decoder pass over [last token, draft..., eos] (KV cache) gives the decoder's argmax at every
    drafted position. The draft is accepted up to the first position where the argmax disagrees;
    that argmax is the next greedy token anyway, so a pass yields accepted + 1 tokens. The cache is
    cut back to the accepted prefix (positions after it are overwritten later). After a
    disagreement the search takes single steps until the decoder meets the draft again
    (`_DraftPointer`), then drafts again; after a rejection a pass drafts at most twice the labels
    the last one accepted (MIN_DRAFT at least; doubling while all are accepted). The tokens are
    greedy decoding's: every token is the decoder's argmax given the tokens before it; only the shapes of the matrix products differ
    (a U-row pass instead of U one-row steps), which changes logits by float rounding (~1e-6). A
    drafted position whose top-2 logit margin is below `margin` is not trusted: it is recomputed as
    a single step, so that rounding cannot flip a near-tie (the cache before it still comes from
    the pass: a tie within its rounding could still differ from step-by-step greedy).

    Beam search is not drafted: a beam step's outcome is the top-k over the extensions of all k
    hypotheses (and, with CTC, their prefix scores), so verifying it needs every hypothesis' next
    token for every step ahead; a CTC draft supplies one path, the best one, not the k - 1 others,
    and a guess of them that is wrong anywhere makes the whole look-ahead void. Only the greedy
    (k = 1) search is exact with one drafted path.

    Returns (1 + n,) ids (decoder start eos, then the hypothesis, ending with eos if it ended) and
    (n,) the log-probability of each token. `stats` (if given) accumulates "passes" (decoder calls),
    "tokens" (tokens generated), "drafted" (draft labels fed) and "accepted" (draft labels accepted).
    """
    eos = model.cfg.eos_id
    out, logps = [eos], []
    cache = model.new_cache()
    pointer = _DraftPointer(draft)
    passes = drafted = accepted = 0
    limit = None  # draft labels per pass: all at first; after a rejection twice the accepted run
    while len(out) - 1 < max_new_tokens and (len(out) == 1 or out[-1] != eos):
        room = max_new_tokens - (len(out) - 1)
        proposal = pointer.proposal(eos, room - 1, limit)  # a pass yields up to len(proposal) + 1 tokens
        start = cache.length
        inp = torch.tensor([out[-1:] + proposal], dtype=torch.long, device=memory.device)
        logits, _, cache = model.decode_text(inp, memory, memory_pad_mask, cache, need_cross_attn=False)
        passes += 1
        drafted += len(proposal)
        logp = torch.log_softmax(logits[0].float(), -1)
        top = logits[0].topk(2, dim=-1) if logits.size(-1) > 1 else None
        pred = logp.argmax(-1).tolist()
        sure = [True] * len(pred) if top is None else ((top.values[:, 0] - top.values[:, 1]) > margin).tolist()
        sure[0] = sure[0] or len(pred) == 1  # a single step is greedy's own computation
        m = 0  # accepted draft labels
        while m < len(proposal) and sure[m] and pred[m] == proposal[m] and proposal[m] != eos:
            m += 1
        emitted = pred[: m + 1] if sure[m] else pred[:m]
        accepted += m
        if proposal:  # rows of a rejected tail are wasted: after a rejection, draft about what was accepted
            limit = max(MIN_DRAFT, 2 * m) if m < len(proposal) else (None if limit is None else 2 * limit)
        for i, token in enumerate(emitted):
            out.append(token)
            logps.append(logp[i, token])
            pointer.advance(token)
        if not sure[m]:
            pointer.synced = False  # recompute that position alone
        cache.length = start + len(emitted)  # keep the inputs of the emitted tokens only
    if stats is not None:
        for key, value in (("passes", passes), ("tokens", len(out) - 1), ("drafted", drafted), ("accepted", accepted)):
            stats[key] = stats.get(key, 0) + value
    logp_all = torch.stack(logps) if logps else memory.new_zeros(0)
    return torch.tensor(out, dtype=torch.long, device=memory.device), logp_all
