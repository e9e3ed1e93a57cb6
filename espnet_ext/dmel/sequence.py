"""Sequence layout of the decoder-only model (paper section 2.2, appendix D).

    TTS: [speaker] <bos> c_1 .. c_n <eos> <BOS> f_1 .. f_T <EOS>     loss on f_1 .. f_T, <EOS>
    ASR: <BOS> f_1 .. f_T <EOS> <bos> c_1 .. c_n <eos>               loss on c_1 .. c_n, <eos>

(c = characters, f = dMel frames, <BOS>/<EOS> = the bos/eos frames.) Every sample of a batch has
its own job; sequences are right-padded, so causal attention never lets a real position see a
padding one. Position l predicts the token at l + 1: the target of segment token j (j >= 1) is read
from the hidden state at ``start + j - 1``.
"""
from typing import Dict, Optional, Tuple

import torch

ASR, TTS = 0, 1
JOBS = {"asr": ASR, "tts": TTS}


def add_bos_eos(ids: torch.Tensor, lengths: torch.Tensor, bos: int, eos: int, pad: int = -1) -> Tuple[torch.Tensor, torch.Tensor]:
    """Text ids (B, L) padded with anything, lengths (B,) -> (B, L + 2) <bos> ids <eos> pad.., lengths + 2."""
    B, L = ids.shape
    out = ids.new_full((B, L + 2), pad)
    out[:, 0] = bos
    valid = torch.arange(L, device=ids.device)[None, :] < lengths[:, None]
    out[:, 1:-1] = torch.where(valid, ids, out[:, 1:-1])
    out[torch.arange(B, device=ids.device), lengths + 1] = eos
    return out, lengths + 2


def segment_starts(jobs: torch.Tensor, n_text: torch.Tensor, n_speech: torch.Tensor, has_spk: bool) -> Dict[str, torch.Tensor]:
    """Where each segment begins, per sample, and the total length. All (B,) long.

    ``has_spk``: TTS samples get a speaker position in front (ASR never does).
    """
    tts = jobs == TTS
    spk = tts.long() * int(has_spk)
    text = torch.where(tts, spk, n_speech)
    speech = torch.where(tts, spk + n_text, torch.zeros_like(n_speech))
    return dict(spk=torch.zeros_like(spk), text=text, speech=speech, total=spk + n_text + n_speech)


def place(x: torch.Tensor, segment: torch.Tensor, start: torch.Tensor, length: torch.Tensor) -> torch.Tensor:
    """Write segment (B, S, D) into x (B, L, D) at positions start .. start + length - 1 of each row."""
    L = x.shape[1]
    j = torch.arange(L, device=x.device)[None, :] - start[:, None]  # (B, L) index into the segment
    inside = (j >= 0) & (j < length[:, None])
    gathered = segment.gather(1, j.clamp(0, segment.shape[1] - 1)[..., None].expand(-1, -1, segment.shape[2]))
    return torch.where(inside[..., None], gathered, x)


def assemble(
    text_emb: torch.Tensor,
    n_text: torch.Tensor,
    speech_emb: torch.Tensor,
    n_speech: torch.Tensor,
    jobs: torch.Tensor,
    spk_emb: Optional[torch.Tensor] = None,
) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """Embedded segments -> the model input (B, L, D) and the segment starts (see ``segment_starts``).

    text_emb (B, Lt, D) and speech_emb (B, Ls, D) already include their bos/eos; spk_emb (B, 1, D).
    """
    starts = segment_starts(jobs, n_text, n_speech, spk_emb is not None)
    B, D = text_emb.shape[0], text_emb.shape[2]
    x = text_emb.new_zeros(B, int(starts["total"].max()), D)
    x = place(x, text_emb, starts["text"], n_text)
    x = place(x, speech_emb, starts["speech"], n_speech)
    if spk_emb is not None:
        x = place(x, spk_emb, starts["spk"], (jobs == TTS).long())
    return x, starts


def prediction_states(h: torch.Tensor, start: torch.Tensor, n_max: int) -> torch.Tensor:
    """Hidden states that predict segment tokens 1 .. n_max - 1: h[b, start_b + j - 1] -> (B, n_max - 1, D)."""
    j = torch.arange(1, n_max, device=h.device)
    index = (start[:, None] + j[None, :] - 1).clamp(0, h.shape[1] - 1)
    return h.gather(1, index[..., None].expand(-1, -1, h.shape[2]))


def target_mask(lengths: torch.Tensor, n_max: int, selected: torch.Tensor) -> torch.Tensor:
    """(B, n_max - 1) bool: segment token j (1 <= j < length) of the samples whose job targets it."""
    j = torch.arange(1, n_max, device=lengths.device)
    return (j[None, :] < lengths[:, None]) & selected[:, None]


def context_mask(lengths: torch.Tensor, n_max: int) -> torch.Tensor:
    """(B, n_max) bool: the content tokens of a bos..eos segment (not bos, not eos), which span
    masking may hide from the input."""
    j = torch.arange(n_max, device=lengths.device)
    return (j[None, :] >= 1) & (j[None, :] < lengths[:, None] - 1)
