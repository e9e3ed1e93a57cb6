"""Autoregressive generation with the key/value cache: text (greedy / beam) and speech (sampling).

Both take a prompt already embedded (1, L, D) that ends with the bos of the segment to generate
(see ``ESPnetDMelLM.asr_prompt`` / ``tts_prompt``). ``use_cache=False`` recomputes the whole
sequence at every step: slower, and the reference the cached path is tested against.

A speech frame ends the utterance when the eos id's probability, averaged over the channels,
exceeds ``eos_threshold`` (channels are predicted independently, so one rule decides for the frame).
Otherwise every channel samples a bin (never a special id) with temperature and top-k.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence

import torch

from espnet_ext.dmel.model import DMelLM


class _Stepper:
    """Feeds new embeddings (B, T, D) and returns the last hidden state (B, D), with or without the cache."""

    def __init__(self, lm: DMelLM, prompt: torch.Tensor, use_cache: bool):
        self.lm, self.use_cache = lm, use_cache
        self.cache = lm.new_cache() if use_cache else None
        self.seq = prompt

    def start(self) -> torch.Tensor:
        return self.lm(self.seq, self.cache)[:, -1]

    def step(self, new: torch.Tensor) -> torch.Tensor:
        if self.use_cache:
            return self.lm(new, self.cache)[:, -1]
        self.seq = torch.cat([self.seq, new], dim=1)
        return self.lm(self.seq)[:, -1]

    def select(self, index: torch.Tensor) -> None:
        if self.use_cache:
            self.cache = self.cache.select(index)
        else:
            self.seq = self.seq.index_select(0, index)


@dataclass
class TextHypothesis:
    tokens: List[int]  # without bos; ends with eos unless cut by the length limit
    score: float  # sum of log-probabilities


@torch.no_grad()
def generate_text(
    lm: DMelLM,
    prompt: torch.Tensor,
    eos: int,
    max_len: int,
    beam_size: int = 1,
    banned: Sequence[int] = (),
    use_cache: bool = True,
) -> List[TextHypothesis]:
    """Beam search (beam_size 1 = greedy) -> up to ``beam_size`` hypotheses, best first."""
    stepper = _Stepper(lm, prompt, use_cache)
    h = stepper.start()  # (1, D)
    alive_tokens = torch.zeros(1, 0, dtype=torch.long, device=prompt.device)
    alive_scores = torch.zeros(1, device=prompt.device)
    finished: List[TextHypothesis] = []
    banned = torch.tensor(list(banned), dtype=torch.long, device=prompt.device)
    for _ in range(max_len):
        logp = lm.text_logits(h).float().log_softmax(-1)
        logp[:, banned] = float("-inf")
        V = logp.shape[-1]
        cand = (alive_scores[:, None] + logp).flatten()
        scores, flat = cand.topk(min(beam_size, cand.numel()))
        rows, toks = flat // V, flat % V
        ended = toks == eos
        for r, t, s in zip(rows[ended].tolist(), toks[ended].tolist(), scores[ended].tolist()):
            finished.append(TextHypothesis(alive_tokens[r].tolist() + [t], s))
        keep = ~ended
        if not keep.any():
            break
        alive_tokens = torch.cat([alive_tokens[rows[keep]], toks[keep][:, None]], dim=1)
        alive_scores = scores[keep]
        finished.sort(key=lambda hyp: -hyp.score)
        # Scores only fall as hypotheses grow: stop once no live one can enter the n-best.
        if len(finished) >= beam_size and alive_scores.max() < finished[beam_size - 1].score:
            break
        stepper.select(rows[keep])
        h = stepper.step(lm.embed_text(toks[keep][:, None]))
    else:
        finished += [TextHypothesis(t, s) for t, s in zip(alive_tokens.tolist(), alive_scores.tolist())]
    finished.sort(key=lambda hyp: -hyp.score)
    return finished[:beam_size]


@torch.no_grad()
def generate_speech(
    lm: DMelLM,
    prompt: torch.Tensor,
    n_bins: int,
    eos: int,
    max_frames: int,
    min_frames: int = 0,
    temperature: float = 1.0,
    top_k: int = 0,
    eos_threshold: float = 0.5,
    generator: Optional[torch.Generator] = None,
    use_cache: bool = True,
):
    """-> (frames (T, n_channels) long bin ids, ended: bool = an eos frame was predicted).

    temperature 0 takes the most likely bin of every channel; top_k 0 samples from all bins.
    """
    stepper = _Stepper(lm, prompt, use_cache)
    h = stepper.start()
    frames = []
    ended = False
    for t in range(max_frames):
        logits = lm.speech_logits(h)[0].float()  # (C, V)
        p_eos = logits.softmax(-1)[:, eos].mean()
        if t >= min_frames and p_eos > eos_threshold:
            ended = True
            break
        bins = logits[:, :n_bins]
        if temperature <= 0:
            frame = bins.argmax(-1)
        else:
            bins = bins / temperature
            if 0 < top_k < n_bins:
                kth = bins.topk(top_k, dim=-1).values[:, -1:]
                bins = bins.masked_fill(bins < kth, float("-inf"))
            probs = bins.softmax(-1)
            frame = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(-1).to(bins.device)
        frames.append(frame)
        h = stepper.step(lm.embed_speech(frame[None, None]))
    C = lm.cfg.n_channels
    out = torch.stack(frames) if frames else torch.zeros(0, C, dtype=torch.long, device=prompt.device)
    return out, ended
