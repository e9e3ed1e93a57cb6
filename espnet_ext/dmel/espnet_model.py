"""ESPnet model for the dMel decoder-only LM: ASR, TTS or joint training, returns (loss, stats, weight).

Batch (from ``DMelLMTask``): ``speech`` is either precomputed dMel tokens (B, T, 80) (as
``python -m espnet_ext.bin.dmel_tokenize`` dumps them; float ark values, cast to ids here) or raw
16 kHz waveforms (B, S), tokenized on the fly; ``text`` is character ids (B, L) padded with -1;
``spembs`` (B, spk_embed_dim) is the speaker d-vector, used by TTS samples only.

Job: ``asr`` (speech -> text), ``tts`` (speaker + text -> speech) or ``joint``: every training
sample is an ASR sample with probability ``asr_ratio``, else TTS. In evaluation a joint model
scores every sample as both, weighted ``asr_ratio`` / ``1 - asr_ratio``. The loss is the
cross-entropy of the target modality only: characters + <eos> for ASR; frames + the eos frame for
TTS, a frame's loss being the mean over its channels (each channel its own softmax).
"""
import logging
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel

from espnet_ext.dmel import sequence as seq
from espnet_ext.dmel.generation import generate_speech, generate_text
from espnet_ext.dmel.masking import span_mask, spec_augment
from espnet_ext.dmel.model import DMelLM
from espnet_ext.dmel.tokenizer import DMelTokenizer

# Text specials, first match wins: SpeechT5/fairseq layout (make_token_list), or ESPnet's.
TEXT_BOS = ("<s>", "<sos/eos>")
TEXT_EOS = ("</s>", "<sos/eos>")
TEXT_NEVER_PREDICTED = ("<s>", "<pad>", "<blank>", "<mask>", "<ctc_blank>")


def _find(token_list: Sequence[str], names: Sequence[str]) -> int:
    for name in names:
        if name in token_list:
            return token_list.index(name)
    raise ValueError(f"the token list has none of {names}")


class ESPnetDMelLM(AbsESPnetModel):
    """Args:
    lm: the transformer; tokenizer: its dMel tokenizer; token_list: characters and specials.
    job: "asr", "tts" or "joint"; asr_ratio: the share of ASR samples in joint training.
    span_mask: hide spans of the target modality's context (p = span_mask_conf["p"] per sample).
    span_mask_conf: overrides of ``masking.span_mask``'s defaults (paper: p 0.8, mean span 3, ratio 0.5).
    specaug: SpecAugment on the speech of ASR samples; specaug_conf: overrides of ``masking.spec_augment``.
    """

    def __init__(
        self,
        lm: DMelLM,
        tokenizer: DMelTokenizer,
        token_list: Sequence[str],
        job: str = "asr",
        asr_ratio: float = 0.5,
        span_mask: bool = True,
        span_mask_conf: Optional[dict] = None,
        specaug: bool = True,
        specaug_conf: Optional[dict] = None,
    ):
        super().__init__()
        if job not in ("asr", "tts", "joint"):
            raise ValueError(f"job must be asr, tts or joint, got {job!r}")
        self.lm, self.tokenizer = lm, tokenizer
        self.token_list = list(token_list)
        self.job, self.asr_ratio = job, asr_ratio
        self.use_span_mask, self.span_mask_conf = span_mask, dict(span_mask_conf or {})
        self.use_specaug, self.specaug_conf = specaug, dict(specaug_conf or {})
        self.text_bos = _find(self.token_list, TEXT_BOS)
        self.text_eos = _find(self.token_list, TEXT_EOS)
        self.never_predicted = [i for i, t in enumerate(self.token_list) if t in TEXT_NEVER_PREDICTED and i != self.text_eos]

    # -- data -----------------------------------------------------------------------------------
    def speech_tokens(self, speech: torch.Tensor, lengths: torch.Tensor):
        """Raw waveforms (B, S) or token ids (B, T, C) -> ids (B, T, C) long, frames (B,)."""
        if speech.dim() == 2:
            return self.tokenizer.encode(speech, lengths)
        return self.tokenizer.mask_padding(speech.round().long(), lengths), lengths

    def _jobs(self, B: int, device) -> torch.Tensor:
        if self.job == "asr":
            return torch.full((B,), seq.ASR, device=device)
        if self.job == "tts":
            return torch.full((B,), seq.TTS, device=device)
        return torch.where(torch.rand(B, device=device) < self.asr_ratio, seq.ASR, seq.TTS)

    # -- training -------------------------------------------------------------------------------
    def forward(self, speech, speech_lengths, text, text_lengths, spembs=None, **kwargs):
        B = speech.shape[0]
        tokens, n_frames = self.speech_tokens(speech, speech_lengths)
        if self.job == "joint" and not self.training:  # score every sample as both jobs
            tokens, n_frames, text, text_lengths = (torch.cat([t, t]) for t in (tokens, n_frames, text, text_lengths))
            spembs = None if spembs is None else torch.cat([spembs, spembs])
            jobs = torch.cat([torch.full((B,), seq.ASR), torch.full((B,), seq.TTS)]).to(speech.device)
        else:
            jobs = self._jobs(B, speech.device)
        out = self.losses(tokens, n_frames, text, text_lengths, jobs, spembs)
        if self.job == "joint" and not self.training:
            w_asr = torch.tensor(self.asr_ratio)
        else:
            w_asr = (jobs == seq.ASR).float().mean()
        loss = sum(w * out[k] for w, k in ((w_asr, "loss_asr"), (1 - w_asr, "loss_tts")) if out[k] is not None)
        stats = dict(loss=loss.detach(), **{k: None if v is None else v.detach() for k, v in out.items()})
        loss, stats, weight = force_gatherable((loss, stats, B), loss.device)
        return loss, stats, weight

    def losses(self, tokens, n_frames, text, text_lengths, jobs, spembs=None) -> Dict[str, Optional[torch.Tensor]]:
        """Cross-entropies and accuracies per job (None for a job absent from the batch)."""
        lm, tok = self.lm, self.tokenizer
        asr, tts = jobs == seq.ASR, jobs == seq.TTS
        if self.training and self.use_specaug and asr.any():
            augmented = tok.discretize(spec_augment(tok.decode(tokens), n_frames, **self.specaug_conf))
            tokens = torch.where(asr[:, None, None], augmented, tokens)
        speech, n_speech = tok.frame(tokens, n_frames)
        text, n_text = seq.add_bos_eos(text, text_lengths, self.text_bos, self.text_eos)
        speech_emb, text_emb = lm.embed_speech(speech), lm.embed_text(text)
        if self.training and self.use_span_mask:
            speech_emb = self._span_mask(speech_emb, n_speech, tts)
            text_emb = self._span_mask(text_emb, n_text, asr)
        spk_emb = None
        if lm.spk_in is not None and tts.any():
            if spembs is None:
                raise ValueError("TTS needs speaker embeddings (spembs), or set lm_conf.spk_embed_dim: 0")
            spk_emb = lm.embed_speaker(spembs)
        x, starts = seq.assemble(text_emb, n_text, speech_emb, n_speech, jobs, spk_emb)
        h = lm(x)
        out = dict(loss_asr=None, acc_asr=None, loss_tts=None, acc_tts=None)
        if asr.any():
            logits = lm.text_logits(seq.prediction_states(h, starts["text"], text.shape[1]))
            mask = seq.target_mask(n_text, text.shape[1], asr)
            target = text[:, 1:][mask]
            out["loss_asr"] = F.cross_entropy(logits[mask].float(), target)
            out["acc_asr"] = (logits[mask].argmax(-1) == target).float().mean()
        if tts.any():
            logits = lm.speech_logits(seq.prediction_states(h, starts["speech"], speech.shape[1]))
            mask = seq.target_mask(n_speech, speech.shape[1], tts)
            target = speech[:, 1:][mask]  # (N, C)
            out["loss_tts"] = F.cross_entropy(logits[mask].float().flatten(0, 1), target.flatten())
            out["acc_tts"] = (logits[mask].argmax(-1) == target).float().mean()
        return out

    def _span_mask(self, emb: torch.Tensor, lengths: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        maskable = seq.context_mask(lengths, emb.shape[1]) & rows[:, None]
        hide = span_mask(maskable, **self.span_mask_conf)
        return torch.where(hide[..., None], self.lm.mask_embed.to(emb.dtype), emb)

    def collect_feats(self, speech, speech_lengths, text=None, text_lengths=None, **kwargs) -> Dict[str, torch.Tensor]:
        return {}  # no feature normalisation: dMel tokens are used as they are

    # -- inference ------------------------------------------------------------------------------
    def asr_prompt(self, tokens: torch.Tensor) -> torch.Tensor:
        """Frames (T, C) long -> embedded <BOS> frames <EOS> <bos> (1, T + 3, D)."""
        n = torch.tensor([tokens.shape[0]], device=tokens.device)
        speech, n_speech = self.tokenizer.frame(tokens[None], n)
        bos = torch.tensor([[self.text_bos]], device=tokens.device)
        x, _ = seq.assemble(self.lm.embed_text(bos), torch.tensor([1], device=tokens.device),
                            self.lm.embed_speech(speech), n_speech, torch.tensor([seq.ASR], device=tokens.device))
        return x

    def tts_prompt(self, text_ids: torch.Tensor, spembs: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Characters (L,) long, d-vector (spk_embed_dim,) -> [speaker] <bos> text <eos> <BOS> (1, ., D)."""
        dev = text_ids.device
        text, n_text = seq.add_bos_eos(text_ids[None], torch.tensor([len(text_ids)], device=dev), self.text_bos, self.text_eos)
        bos_frame = torch.full((1, 1, self.tokenizer.n_mels), self.tokenizer.bos_id, device=dev)
        spk = None
        if self.lm.spk_in is not None:
            if spembs is None:
                raise ValueError("this TTS model was trained with speaker embeddings: pass spembs")
            spk = self.lm.embed_speaker(spembs.reshape(1, -1))
        x, _ = seq.assemble(self.lm.embed_text(text), n_text, self.lm.embed_speech(bos_frame),
                            torch.tensor([1], device=dev), torch.tensor([seq.TTS], device=dev), spk)
        return x

    @torch.no_grad()
    def recognize(self, tokens: torch.Tensor, beam_size: int = 1, maxlenratio: float = 0.5, use_cache: bool = True):
        """Frames (T, C) -> hypotheses (best first); at most max(1, maxlenratio * T) characters."""
        max_len = max(1, int(maxlenratio * tokens.shape[0]))
        return generate_text(self.lm, self.asr_prompt(tokens), self.text_eos, max_len, beam_size,
                             banned=self.never_predicted, use_cache=use_cache)

    @torch.no_grad()
    def synthesize(self, text_ids: torch.Tensor, spembs=None, maxlenratio: float = 10.0, minlenratio: float = 0.0,
                   temperature: float = 1.0, top_k: int = 0, eos_threshold: float = 0.5,
                   generator: Optional[torch.Generator] = None, use_cache: bool = True):
        """Characters (L,) -> frames (T, C), ended; T <= maxlenratio * L frames."""
        L = len(text_ids)
        if L == 0:
            logging.warning("empty text: nothing to synthesize")
        return generate_speech(
            self.lm, self.tts_prompt(text_ids, spembs), self.tokenizer.n_bins, self.tokenizer.eos_id,
            max_frames=max(1, int(maxlenratio * L)), min_frames=int(minlenratio * L), temperature=temperature,
            top_k=top_k, eos_threshold=eos_threshold, generator=generator, use_cache=use_cache,
        )
