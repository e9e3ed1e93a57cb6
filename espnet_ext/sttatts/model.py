"""ESPnetSTTATTSModel: one SpeechT5 encoder-decoder for ASR, TTS and VC, steered by task fusion.

A batch may mix tasks: every utterance carries a category id (``utt2category``: ``asr``, ``tts``,
``vc``, or ``<task>:<tag>`` for data-set tags used by training phases). One forward groups the
batch by task, runs each group through its pre-nets, the shared encoder, task fusion, the shared
decoder and its post-nets, and sums the per-task losses (section 3.3):

    L_asr = (ce_weight * CE_sum + ctc_weight * CTC_sum) / N_asr     (or / target tokens)
    L_tts = L1(before postnet) + L1(after postnet) + BCE(stop) + guided attention   (means)
    L_vc  = the same as L_tts on the VC group
    L     = sum of the terms of the tasks present in the batch

CTC reads the encoder output before task fusion. With ``y_decoder: true`` (section 6.2) only the
encoder is shared: text leaves through ``backbone.decoder``, speech through a second decoder
``speech_decoder``, and there is no task fusion.
"""
from __future__ import annotations

import logging
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from espnet2.asr.ctc import CTC
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel

from espnet_ext.speecht5 import DecoderCache, SpeechT5
from espnet_ext.speecht5.decoder import Decoder
from espnet_ext.sttatts.losses import (
    GuidedCrossAttentionLoss,
    label_smoothed_nll,
    masked_l1,
    stop_bce,
    token_accuracy,
)
from espnet_ext.sttatts.phases import PhaseSchedule, frozen_names
from espnet_ext.sttatts.task_fusion import TASKS, TaskFusion

IGNORE_ID = -1  # padding value of integer sequences (ESPnet's collate pads text with it)
ASR_NORMALIZATIONS = ("sample", "token")
# batched inference encoding: waveforms go into one padded batch while longest / shortest <= this
MAX_PADDING_RATIO = 1.25


def category_task(category: str) -> str:
    """``asr`` / ``tts`` / ``vc`` of a category name ``<task>`` or ``<task>:<tag>``."""
    task = category.split(":", 1)[0]
    if task not in TASKS:
        raise ValueError(f"category {category!r}: its task must be one of {TASKS}")
    return task


def special_ids(token_list: Sequence[str]) -> Dict[str, int]:
    """Ids of SpeechT5's specials in a token list (fairseq layout, see make_token_list)."""
    names = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "blank": "<ctc_blank>"}
    missing = [s for s in names.values() if s not in token_list]
    if missing:
        raise ValueError(f"token list lacks the SpeechT5 specials {missing} (make it with espnet_ext.bin.make_token_list)")
    return {k: list(token_list).index(s) for k, s in names.items()}


def append_eos(tokens: torch.Tensor, lengths: torch.Tensor, eos: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """(B, L) ids padded with anything -> (B, L + 1) ids + eos at each end, padded with IGNORE_ID."""
    b = tokens.size(0)
    out = tokens.new_full((b, tokens.size(1) + 1), IGNORE_ID)
    for i, n in enumerate(lengths.tolist()):
        out[i, :n] = tokens[i, :n]
        out[i, n] = eos
    return out, lengths + 1


def prepend_eos(tokens: torch.Tensor, lengths: torch.Tensor, eos: int) -> torch.Tensor:
    """(B, L) -> (B, L + 1): SpeechT5's decoder input starts with eos; padding -> IGNORE_ID."""
    out = torch.cat([tokens.new_full((tokens.size(0), 1), eos), tokens], dim=1)
    valid = torch.arange(out.size(1), device=out.device)[None, :] <= lengths[:, None]
    return out.masked_fill(~valid, IGNORE_ID)


def shift_mel(mel: torch.Tensor, r: int) -> torch.Tensor:
    """Targets (B, L, F), L a multiple of r -> decoder input (B, L / r, F): every r-th frame
    (the last of each group), shifted right by one step with a zero frame first."""
    thin = mel[:, r - 1 :: r]
    return torch.cat([torch.zeros_like(thin[:, :1]), thin[:, :-1]], dim=1)


def _nan() -> torch.Tensor:
    return torch.tensor(math.nan)


class ESPnetSTTATTSModel(AbsESPnetModel):
    """The multi-task model (see the module docstring).

    Args:
        backbone: the SpeechT5 encoder-decoder.
        feats_extract: waveform -> log mel targets for speech outputs (SpeechT5LogMel).
        task_fusion: TaskFusion, or None (no conditioning).
        ctc: ESPnet CTC head on the encoder output (its blank is set to ``<ctc_blank>``).
        token_list: the vocabulary (fairseq layout with SpeechT5's specials).
        categories: category names in id order (the preprocessor's table).
        ce_weight, ctc_weight: weights of the ASR terms (the released code: 0.5 / 0.5).
        lsm_weight: label smoothing of the CE term.
        asr_normalize: ``sample`` (divide by the ASR utterances in the batch: the paper, and the
            released finetune.sh's --sentence-avg) or ``token`` (by the target tokens incl. eos:
            fairseq's default without --sentence-avg).
        bce_pos_weight: weight of the positive (stop) frames in the stop BCE.
        use_guided_attn_loss, guided_attn_sigma, guided_attn_weight: guided attention loss.
        guided_attn_heads: first N heads of each chosen layer (-1: all).
        guided_attn_layers: decoder layers it applies to (None: all).
        phases: training phases (see espnet_ext.sttatts.phases), None: one phase, all data.
        y_decoder: the Y-decoder variant (section 6.2): speech leaves through ``speech_decoder``,
            a second decoder of the same architecture; requires ``task_fusion`` None.
        accum_grad: forwards per optimizer update (the task passes ESPnet's --accum_grad), to
            count updates for the phases.
    """

    def __init__(
        self,
        backbone: SpeechT5,
        feats_extract: torch.nn.Module,
        task_fusion: Optional[TaskFusion],
        ctc: CTC,
        token_list: Sequence[str],
        categories: Sequence[str],
        ce_weight: float = 0.5,
        ctc_weight: float = 0.5,
        lsm_weight: float = 0.0,
        asr_normalize: str = "sample",
        bce_pos_weight: float = 5.0,
        use_guided_attn_loss: bool = True,
        guided_attn_sigma: float = 0.4,
        guided_attn_weight: float = 1.0,
        guided_attn_heads: int = 2,
        guided_attn_layers: Optional[Sequence[int]] = None,
        phases: Optional[Sequence[dict]] = None,
        y_decoder: bool = False,
        accum_grad: int = 1,
    ):
        super().__init__()
        if y_decoder and task_fusion is not None:
            raise ValueError("the Y-decoder has no task fusion: set task_fusion: none")
        if asr_normalize not in ASR_NORMALIZATIONS:
            raise ValueError(f"asr_normalize must be one of {ASR_NORMALIZATIONS}, got {asr_normalize!r}")
        self.backbone = backbone
        self.feats_extract = feats_extract
        self.task_fusion = task_fusion
        self.ctc = ctc
        self.token_list = list(token_list)
        self.specials = special_ids(self.token_list)
        # SpeechT5's CTC blank is <ctc_blank> (the last id), not ESPnet's default 0
        self.ctc.ctc_loss = torch.nn.CTCLoss(blank=self.specials["blank"], reduction="none", zero_infinity=True)
        self.categories = list(categories)
        task_of = [TASKS.index(category_task(c)) for c in self.categories]
        self.register_buffer("category_task", torch.tensor(task_of, dtype=torch.long), persistent=False)
        self.ce_weight = ce_weight
        self.ctc_weight = ctc_weight
        self.lsm_weight = lsm_weight
        self.asr_normalize = asr_normalize
        self.bce_pos_weight = bce_pos_weight
        self.guided_attn = (
            GuidedCrossAttentionLoss(guided_attn_sigma, guided_attn_weight, guided_attn_heads, guided_attn_layers)
            if use_guided_attn_loss
            else None
        )
        self.phases = PhaseSchedule(phases, self.categories) if phases else None
        self.accum_grad = max(1, int(accum_grad))
        if self.phases is not None:
            # counts training forwards; part of the state dict so that --resume continues the schedule
            self.register_buffer("phase_forward_steps", torch.zeros((), dtype=torch.long))
        self._applied_phase = None
        self._base_trainable = None
        # Y-decoder: speech leaves through a decoder of its own (text keeps backbone.decoder)
        self.speech_decoder = Decoder(backbone.cfg) if y_decoder else None

    # ------------------------------------------------------------------ building blocks
    @property
    def reduction_factor(self) -> int:
        return self.backbone.cfg.reduction_factor

    @property
    def fusion_position(self) -> Optional[str]:
        return None if self.task_fusion is None else self.task_fusion.position

    def encode(
        self,
        task: str,
        speech: Optional[torch.Tensor] = None,
        speech_lengths: Optional[torch.Tensor] = None,
        tokens: Optional[torch.Tensor] = None,
        token_lengths: Optional[torch.Tensor] = None,
        one_by_one: bool = False,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode speech (B, S) samples or tokens (B, L) for ``task``.

        ``speech`` may also be a list of (S_i,) waveforms (inference on a batch of utterances;
        ``speech_lengths`` is not needed): every utterance gets the encoding it gets on its own.
        They are zero-padded into batches of similar lengths whose speech pre-net leaves the
        padding out of its GroupNorm statistics (``unpadded``, see SpeechEncoderPrenet.forward):
        equal to encoding each alone up to float rounding. ``one_by_one``: encode each alone and pad the outputs
        (the reference; no frame computed for padding).

        Returns:
            enc (B, T, D) the encoder output (what CTC reads), pad_mask (B, T) True = padding,
            memory (B, T, D) what the decoder attends to (enc after task fusion).
        """
        if isinstance(speech, (list, tuple)) and one_by_one:
            return _padded_batch([self._encode(task, w.view(1, -1), torch.tensor([w.numel()], device=w.device))
                                  for w in speech])
        if isinstance(speech, (list, tuple)):
            return _padded_batch(self._encode_groups(task, list(speech)))
        return self._encode(task, speech, speech_lengths, tokens, token_lengths)

    def _encode_groups(self, task: str, speech: List[torch.Tensor]):
        """Waveforms (S_i,) -> per waveform (enc (1, T_i, D), pad_mask (1, T_i), memory (1, T_i, D)),
        encoded in padded batches of similar lengths (at most MAX_PADDING_RATIO longest / shortest:
        the encoder is compute-bound, padded frames cost as much as real ones)."""
        order = sorted(range(len(speech)), key=lambda i: speech[i].numel())
        groups, out = [], [None] * len(speech)
        for i in order:
            if groups and speech[i].numel() <= MAX_PADDING_RATIO * speech[groups[-1][0]].numel():
                groups[-1].append(i)
            else:
                groups.append([i])
        for group in groups:
            wavs = [speech[i].view(-1) for i in group]
            lengths = torch.tensor([w.numel() for w in wavs], device=wavs[0].device)
            enc, pad, memory = self._encode(task, torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True), lengths,
                                            unpadded=True)
            for row, i in enumerate(group):
                out[i] = (enc[row : row + 1], pad[row : row + 1], memory[row : row + 1])
        return out

    def _encode(self, task, speech=None, speech_lengths=None, tokens=None, token_lengths=None, unpadded=False):
        bb = self.backbone
        if tokens is not None:
            x, pad_mask = bb.encoder_prenet_text(tokens, token_lengths)
        else:
            x, pad_mask = bb.encoder_prenet_speech(speech, speech_lengths, unpadded)
        task_id = TASKS.index(task)
        if self.fusion_position == "before_encoder":
            x = self.task_fusion(x, task_id)
        enc = bb.run_encoder(x, pad_mask)
        memory = self.task_fusion(enc, task_id) if self.fusion_position == "after_encoder" else enc
        return enc, pad_mask, memory

    def decode_text(self, prev_tokens, memory, memory_pad_mask, cache: Optional[DecoderCache] = None,
                    need_cross_attn=False):
        """(B, U) previous tokens -> logits (B, U, V), cross-attention, cache (see SpeechT5.decode_text)."""
        return self.backbone.decode_text(prev_tokens, memory, memory_pad_mask, cache, need_cross_attn)

    def new_text_cache(self, share_cross: bool = False) -> DecoderCache:
        return self.backbone.new_cache(share_cross)

    def decode_speech(
        self,
        prev_mel,
        spembs,
        memory,
        memory_pad_mask,
        cache: Optional[DecoderCache] = None,
        need_cross_attn=True,
        run_postnet=True,
    ):
        """(B, U, F) previous frames -> before (B, U*r, F), after, stop logits (B, U*r), cross-attn, cache."""
        bb = self.backbone
        if self.speech_decoder is None:
            return bb.decode_speech(prev_mel, spembs, memory, memory_pad_mask, cache, need_cross_attn, run_postnet)
        offset = 0 if cache is None else cache.length
        x = bb.speech_decoder_prenet(prev_mel, spembs, offset)
        h, cross_attn = self.speech_decoder(x, memory, memory_pad_mask, cache, need_cross_attn)
        before, stop = bb.speech_decoder_postnet.frames(h)
        after = bb.speech_decoder_postnet.postnet(before) if run_postnet else None
        return before, after, stop, cross_attn, cache

    def new_speech_cache(self, share_cross: bool = False) -> DecoderCache:
        decoder = self.backbone.decoder if self.speech_decoder is None else self.speech_decoder
        return decoder.new_cache(share_cross)

    def postnet(self, feat_before: torch.Tensor) -> torch.Tensor:
        """(B, L, F) mel before the postnet -> refined mel (inference runs it once at the end)."""
        return self.backbone.speech_decoder_postnet.postnet(feat_before)

    # ------------------------------------------------------------------ phases
    def _update_phase(self) -> Optional[torch.Tensor]:
        """At a training forward: switch phase if due (re-freezing parameters); return the allowed
        categories as a bool (C,) tensor, or None when every category trains."""
        if self.phases is None or not self.training:
            return None  # validation scores every category
        index = self.phases.index_at(int(self.phase_forward_steps) // self.accum_grad)
        self.phase_forward_steps += 1
        if index != self._applied_phase:
            self.apply_freezing(self.phases.phases[index].freeze)
            self._applied_phase = index
        allowed = self.phases.phases[index].categories
        if allowed is None:
            return None
        return torch.tensor([c in allowed for c in self.categories], dtype=torch.bool)

    def apply_freezing(self, patterns: Sequence[str]) -> list:
        """Freeze the parameters matching ``patterns``; unfreeze the others unless they were frozen
        before the first call (e.g. by ESPnet's --freeze_param). Returns the frozen names."""
        named = dict(self.named_parameters())
        if self._base_trainable is None:
            self._base_trainable = {n: p.requires_grad for n, p in named.items()}
        frozen = set(frozen_names(named, patterns))
        for n, p in named.items():
            p.requires_grad = self._base_trainable[n] and n not in frozen
        return sorted(frozen)

    # ------------------------------------------------------------------ losses per task
    def _asr_loss(self, speech, speech_lengths, text, text_lengths) -> Tuple[torch.Tensor, dict]:
        n = speech.size(0)
        enc, pad_mask, memory = self.encode("asr", speech, speech_lengths)
        enc_lengths = (~pad_mask).sum(1)
        eos = self.specials["eos"]
        ctc_sum = enc.new_zeros(())
        if self.ctc_weight > 0:
            # ESPnet's CTC returns the batch mean: times n gives the sum over utterances
            with torch.autocast(enc.device.type, enabled=False):  # log-softmax + CTC in fp32
                ctc_sum = self.ctc(enc.float(), enc_lengths, text, text_lengths) * n
        ys_in = prepend_eos(text, text_lengths, eos)
        ys_out, out_lengths = append_eos(text, text_lengths, eos)
        logits, _, _ = self.decode_text(ys_in, memory, pad_mask)
        ce_sum, _ = label_smoothed_nll(logits, ys_out, self.lsm_weight, IGNORE_ID)
        denom = n if self.asr_normalize == "sample" else int(out_lengths.sum())
        ce, ctc = ce_sum / denom, ctc_sum / denom
        loss = self.ce_weight * ce + self.ctc_weight * ctc
        stats = dict(
            asr_loss=loss.detach(),
            asr_ce=ce.detach(),
            asr_ctc=ctc.detach() if self.ctc_weight > 0 else _nan(),
            asr_acc=token_accuracy(logits.detach(), ys_out, IGNORE_ID),
        )
        return loss, stats

    def _mel_target(self, target, target_lengths):
        """Target waveforms (B, S) -> log mel (B, L, F) and lengths (B,), L a multiple of r."""
        with torch.autocast(target.device.type, enabled=False):  # fp32 targets under autocast too
            mel, mel_lengths = self.feats_extract(target, target_lengths)
        r = self.reduction_factor
        mel_lengths = mel_lengths - mel_lengths % r  # whole decoder steps only
        return mel[:, : int(mel_lengths.max())], mel_lengths

    def _speech_output_loss(self, task, enc_lengths, memory, pad_mask, mel_target, spembs):
        """Speech-output terms for TTS / VC given the encoded input; mel_target = (mel, lengths)."""
        mel, mel_lengths = mel_target
        r = self.reduction_factor
        before, after, stop, cross_attn, _ = self.decode_speech(
            shift_mel(mel, r), spembs, memory, pad_mask, need_cross_attn=self.guided_attn is not None
        )
        l1_before = masked_l1(before, mel, mel_lengths)
        l1_after = masked_l1(after, mel, mel_lengths)
        bce = stop_bce(stop, mel_lengths, self.bce_pos_weight)
        loss = l1_before + l1_after + bce
        stats = {f"{task}_l1": (l1_before + l1_after).detach(), f"{task}_l1_before": l1_before.detach(),
                 f"{task}_l1_after": l1_after.detach(), f"{task}_bce": bce.detach()}
        if self.guided_attn is not None:
            attn = self.guided_attn(cross_attn, enc_lengths, mel_lengths // r)
            loss = loss + attn
            stats[f"{task}_attn"] = attn.detach()
        stats[f"{task}_loss"] = loss.detach()
        return loss, stats

    def _tts_loss(self, text, text_lengths, mel_target, spembs):
        tokens, token_lengths = append_eos(text, text_lengths, self.specials["eos"])
        _, pad_mask, memory = self.encode("tts", tokens=tokens, token_lengths=token_lengths)
        return self._speech_output_loss("tts", token_lengths, memory, pad_mask, mel_target, spembs)

    def _vc_loss(self, speech, speech_lengths, mel_target, spembs):
        _, pad_mask, memory = self.encode("vc", speech, speech_lengths)
        enc_lengths = (~pad_mask).sum(1)
        return self._speech_output_loss("vc", enc_lengths, memory, pad_mask, mel_target, spembs)

    def _task_stat_names(self, task: str) -> list:
        if task == "asr":
            return ["asr_loss", "asr_ce", "asr_ctc", "asr_acc"]
        names = [f"{task}_loss", f"{task}_l1", f"{task}_l1_before", f"{task}_l1_after", f"{task}_bce"]
        return names + ([f"{task}_attn"] if self.guided_attn is not None else [])

    # ------------------------------------------------------------------ ESPnet interface
    def forward(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        text: Optional[torch.Tensor] = None,
        text_lengths: Optional[torch.Tensor] = None,
        category: Optional[torch.Tensor] = None,
        spembs: Optional[torch.Tensor] = None,
        speech_tgt: Optional[torch.Tensor] = None,
        speech_tgt_lengths: Optional[torch.Tensor] = None,
        **kwargs,
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor], torch.Tensor]:
        """One multi-task step.

        Args:
            speech: (B, S) waveforms: ASR input, TTS target, VC source. speech_lengths (B,).
            text: (B, L) token ids (no eos), padded with -1: ASR target, TTS input. text_lengths.
            category: (B,) or (B, 1) category ids (index into ``categories``); None = all ``asr``.
            spembs: (B, spk_embed_dim) speaker embeddings (TTS, VC), or None.
            speech_tgt: (B, S') VC target waveforms (zero length for other utterances).
        Returns:
            loss, stats (every term per task, NaN for tasks absent from the batch), weight.
        """
        device = speech.device
        b = speech.size(0)
        norm_stats = _running_stats(self) if self.training else None
        if category is None:
            default = self.categories.index("asr") if "asr" in self.categories else 0
            category = torch.full((b,), default, dtype=torch.long)
        category = category.view(-1).to(device)
        tasks = self.category_task.to(device)[category]
        keep = torch.ones(b, dtype=torch.bool, device=device)
        allowed = self._update_phase()
        if allowed is not None:
            keep = allowed.to(device)[category]

        groups = {task: torch.nonzero((tasks == task_id) & keep).view(-1) for task_id, task in enumerate(TASKS)}
        # speech-output targets first: their STFT buffers are freed before any task's graph is
        # built, instead of adding to the step's peak memory
        mel_targets = {}
        if groups["tts"].numel():
            mel_targets["tts"] = self._mel_target(*_select(groups["tts"], speech, speech_lengths))
        if groups["vc"].numel():
            mel_targets["vc"] = self._mel_target(*_select(groups["vc"], speech_tgt, speech_tgt_lengths))
        losses, stats = [], {}
        for task, idx in groups.items():
            if idx.numel() == 0:
                if task in self._configured_tasks():
                    stats.update({k: _nan() for k in self._task_stat_names(task)})
                continue
            if task == "asr":
                loss, st = self._asr_loss(*_select(idx, speech, speech_lengths), *_select(idx, text, text_lengths))
            elif task == "tts":
                loss, st = self._tts_loss(*_select(idx, text, text_lengths), mel_targets["tts"], _rows(idx, spembs))
            else:
                loss, st = self._vc_loss(*_select(idx, speech, speech_lengths), mel_targets["vc"], _rows(idx, spembs))
            losses.append(loss)
            stats.update(st)

        if losses:
            loss = torch.stack(losses).sum()
        else:  # the active phase uses none of these utterances: a zero loss that backward accepts
            loss = torch.zeros((), device=device, requires_grad=True)
        if not torch.isfinite(loss):
            task_losses = {f"{t}_loss": stats[f"{t}_loss"] for t, idx in groups.items() if idx.numel()}
            _log_non_finite(loss, task_losses, kwargs.get("utt_id"), self.training,
                            dict(speech=speech, spembs=spembs, speech_tgt=speech_tgt))
        if norm_stats is not None and not torch.isfinite(loss):
            # ESPnet's Trainer skips the update of a non-finite loss, but this forward has already
            # moved the BatchNorm running statistics (postnet): put them back, or one bad batch
            # would turn every later evaluation and synthesis into NaN.
            _restore_running_stats(norm_stats)
        stats["loss"] = loss.detach()
        if self.phases is not None:
            stats["phase"] = torch.tensor(float(self._applied_phase or 0))
        weight = torch.tensor(max(int(keep.sum()), 1), device=device)
        loss, stats, weight = force_gatherable((loss, stats, weight), device)
        return loss, stats, weight

    def _configured_tasks(self) -> set:
        return {category_task(c) for c in self.categories}

    def collect_feats(self, **batch) -> Dict[str, torch.Tensor]:
        """No feature statistics: SpeechT5 uses raw waveforms in and unnormalised log mels out."""
        return {}


def _running_stats(module: torch.nn.Module) -> list:
    """(buffer, copy) of every BatchNorm running statistic under ``module``."""
    return [
        (buf, buf.detach().clone())
        for m in module.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
        for buf in (m.running_mean, m.running_var, m.num_batches_tracked)
        if buf is not None
    ]


def _log_non_finite(loss, task_losses: dict, utt_ids: Optional[List[str]], training: bool, inputs: dict) -> None:
    """Name the batch's utterances (ESPnet's trainer passes their ids as ``utt_id``), the task
    losses that are not finite, and the utterances whose float inputs (B, ...) hold NaN / inf."""
    ids = list(utt_ids) if utt_ids is not None else []
    terms = ", ".join(f"{k} {float(v)}" for k, v in task_losses.items() if not math.isfinite(float(v)))
    bad = []
    for name, x in inputs.items():
        if x is None or not x.is_floating_point():
            continue
        rows = (~torch.isfinite(x.reshape(x.size(0), -1))).any(1).nonzero().view(-1).tolist()
        bad += [f"{ids[i] if i < len(ids) else f'row {i}'} ({name})" for i in rows]
    fate = ("ESPnet's trainer skips the update of the whole batch (with --accum_grad > 1, of every batch "
            "accumulated with it): none of these utterances is learnt from in this step") if training \
        else "validation: the epoch's figures of these terms will not be finite"
    logging.warning("Non-finite loss %s (%s) in the batch of %d utterances %s; non-finite input: %s. %s.",
                    float(loss), terms or "-", len(ids), " ".join(ids) or "(ids not given)", ", ".join(bad) or "none",
                    fate)


def _restore_running_stats(saved: list) -> None:
    # through .data: the batch_norm nodes of this step's graph saved the buffers' versions (training
    # -mode backward reads the batch statistics, not these, so the gradients stay the same)
    for buf, copy in saved:
        buf.data.copy_(copy)


def _padded_batch(encoded: Sequence[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]):
    """Per-utterance (enc (1, T_i, D), pad_mask (1, T_i), memory (1, T_i, D)) -> one padded batch."""
    lengths = [int((~pad[0]).sum()) for _, pad, _ in encoded]
    enc = torch.nn.utils.rnn.pad_sequence([e[0, :n] for (e, _, _), n in zip(encoded, lengths)], batch_first=True)
    memory = torch.nn.utils.rnn.pad_sequence([m[0, :n] for (_, _, m), n in zip(encoded, lengths)], batch_first=True)
    pad_mask = torch.arange(enc.size(1), device=enc.device)[None, :] >= torch.tensor(lengths, device=enc.device)[:, None]
    return enc, pad_mask, memory


def _rows(idx: torch.Tensor, x: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """Rows ``idx`` (ascending) of x: a view when they are consecutive (no copy of the batch's
    waveforms, which the first convolution would keep for the backward pass), else a copy."""
    if x is None:
        return None
    first, n = int(idx[0]), idx.numel()
    if int(idx[-1]) - first + 1 == n:
        return x[first : first + n]
    return x.index_select(0, idx.to(x.device))


def _select(idx: torch.Tensor, x: Optional[torch.Tensor], lengths: Optional[torch.Tensor]):
    """Rows ``idx`` of a padded batch, trimmed to their longest length."""
    if x is None or lengths is None:
        raise ValueError("a task in the batch lacks its data (see STTATTSTask's data names)")
    lengths = _rows(idx, lengths)
    x = _rows(idx, x)[:, : int(lengths.max())]
    return x, lengths
