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
