"""STTATTS inference: Speech2Text (ASR), Text2Speech (TTS), Speech2Speech (VC), and a batch CLI.

    s2t = Speech2Text("exp/sttatts/config.yaml", "exp/sttatts/valid.asr_acc.ave.pth", beam_size=5, ctc_weight=0.5)
    text, tokens, token_ids, hyp = s2t(wav)[0]
    tts = Text2Speech.from_pretrained(model_tag="exp/sttatts/model.zip", vocoder_file=None)
    out = tts("hello world", spembs=xvector)          # out["feat_gen"] (T, 80), out["wav"] (Griffin-Lim)
    nbests = s2t.batch([wav1, wav2, wav3])            # several utterances in one decoder batch
    outs = tts.batch(["hello", "good day"], [xvector1, xvector2])

    python -m espnet_ext.bin.sttatts_inference --task asr --train_config C --model_file M \
        --data_path_and_name_and_type dump/raw/test/wav.scp,speech,sound --output_dir D \
        [--config conf/decode_sttatts.yaml] [--batch_size 16] [--quantize int8] [--ctc_draft true]

ASR decodes with a batched joint CTC/attention beam search that makes ESPnet's BatchBeamSearch +
CTCPrefixScorer decisions (espnet_ext.sttatts.beam_search; ``use_espnet_beam_search=True`` runs
ESPnet's own), or greedily when beam_size == 1 and ctc_weight == 0 (``ctc_draft``: the CTC best path
drafts the greedy hypothesis, one decoder pass verifies it; same tokens). ``quantize="int8"``: int8
decoder linears (ASR, TTS, VC; CPU). TTS / VC generate r mel
frames per step with the KV cache, stop when any of the r stop probabilities passes the threshold
(fairseq's rule), run the postnet once at the end and vocode (Griffin-Lim without a vocoder file).
Outputs of the CLI: ASR ``D/<n>best_recog/{text,token,token_int,score}``; TTS / VC
``D/feats.{ark,scp}`` (log10 mel after the postnet), ``D/wav/<utt>.wav``, ``D/wav.scp``,
``D/speech_shape``, ``D/stop_fired`` (``key 1|0``: the stop token fired before the maximum length)
and, for the first ``--num_plots`` utterances, ``D/plots/<key>_{att,prob,feat}.npy`` (cross-attention
map (steps, L), stop probabilities (T,), generated mel (T, 80)). The CLI writes into a hidden ``.D.partial`` beside D and renames it to D (which it
replaces as a whole) when every utterance is done: an interrupted job leaves no D that
merge_decode would take as complete.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence, Union

import numpy as np
import torch
from espnet.nets.batch_beam_search import BatchBeamSearch
from espnet.nets.beam_search import Hypothesis
from espnet.nets.scorer_interface import BatchScorerInterface
from espnet.nets.scorers.ctc import CTCPrefixScorer

from espnet_ext.speecht5.generate import (
    ctc_drafted_greedy_decode_text,
    ctc_greedy_draft,
    greedy_decode_text,
    synthesize_speech,
)
from espnet_ext.speecht5.quantize import QUANTIZE_CHOICES, quantize_int8
from espnet_ext.sttatts.beam_search import BeamSearchOptions, batch_beam_search, length_limits
from espnet_ext.sttatts.data import CharTextConverter, STTATTSPreprocessor
from espnet_ext.sttatts.mel import mel_config
from espnet_ext.sttatts.model import ESPnetSTTATTSModel
from espnet_ext.tasks.sttatts import STTATTSTask

from espnet_ext.sttatts.ctc_prefix_score import LOGZERO  # CTCPrefixScoreTH's log(0)
ArrayLike = Union[np.ndarray, torch.Tensor]


# ------------------------------------------------------------------------------------ ASR scorers
def never_output_ids(model: ESPnetSTTATTSModel) -> List[int]:
    """Ids that are never part of a transcript: <s>, <pad>, <mask>, <ctc_blank>."""
    ids = [model.specials[k] for k in ("bos", "pad", "blank")]
    return sorted(set(ids + [i for i, t in enumerate(model.token_list) if t == "<mask>"]))


class _DecoderState:
    """One hypothesis' decoder state: a row of a shared KV cache, and the memory it attends to."""

    def __init__(self, cache, row: int, memory: torch.Tensor, pad_mask: torch.Tensor):
        self.cache, self.row, self.memory, self.pad_mask = cache, row, memory, pad_mask


class TextDecoderScorer(BatchScorerInterface):
    """ESPnet batch scorer over STTATTS's text decoder, incremental with the backbone's KV cache.

    Its input ``x`` is the encoder output BEFORE task fusion (what CTC reads); task fusion is applied
    once, at the first step. Specials that are never output (<s>, <pad>, <mask>, <ctc_blank>) score
    LOGZERO: they must stay out of hypotheses because the CTC scorer below re-uses id 0 as blank.
    """

    def __init__(self, model: ESPnetSTTATTSModel, task: str = "asr"):
        self.model = model
        self.task = task
        self.forbidden = never_output_ids(model)

    def init_state(self, x):
        return None

    def score(self, y, state, x):
        scores, states = self.batch_score(y[None], [state], x[None])
        return scores[0], states[0]

    def batch_score(self, ys: torch.Tensor, states: List[Any], xs: torch.Tensor):
        """ys (n, L) prefixes, states per hypothesis, xs (n, T, D) -> log-probs (n, V), new states."""
        n = ys.size(0)
        if states[0] is None:  # first step: fuse once, start the cache, feed the whole prefix
            pad_mask = torch.zeros(1, xs.size(1), dtype=torch.bool, device=xs.device)
            fusion = self.model.task_fusion
            memory = xs[:1]
            if fusion is not None and fusion.position == "after_encoder":
                memory = fusion(memory, fusion.task_id(self.task))
            cache, prev = self.model.new_text_cache(), ys
            memory, pad_mask = memory.expand(n, -1, -1), pad_mask.expand(n, -1)
        else:
            first = states[0]
            rows = torch.tensor([s.row for s in states], device=ys.device)
            cache, prev = first.cache.index_select(rows), ys[:, -1:]
            memory, pad_mask = first.memory[:1].expand(n, -1, -1), first.pad_mask[:1].expand(n, -1)
        logits, _, cache = self.model.decode_text(prev, memory, pad_mask, cache)
        logp = torch.log_softmax(logits[:, -1].float(), dim=-1)
        logp[:, self.forbidden] = LOGZERO
        return logp, [_DecoderState(cache, i, memory, pad_mask) for i in range(n)]


class BlankFirstCTC(torch.nn.Module):
    """ESPnet's CTCPrefixScorer takes blank = id 0; SpeechT5's blank is <ctc_blank>. This view of
    the CTC head swaps the two columns, so blank sits at 0, and gives LOGZERO to the columns of ids
    that are never output (the moved <s>, <pad>, <mask>), so CTC-only decoding cannot emit them."""

    def __init__(self, ctc: torch.nn.Module, blank_id: int, never_output: Sequence[int]):
        super().__init__()
        self.ctc = ctc
        self.blank_id = blank_id
        self.impossible = sorted({blank_id} | {i for i in never_output if i not in (0, blank_id)})

    def log_softmax(self, x: torch.Tensor) -> torch.Tensor:
        lp = self.ctc.log_softmax(x)
        perm = torch.arange(lp.size(-1), device=lp.device)
        perm[0], perm[self.blank_id] = self.blank_id, 0
        lp = lp.index_select(-1, perm)
        lp[..., self.impossible] = LOGZERO
        return lp


# ------------------------------------------------------------------------------------ loading
def _as_float_tensor(x: ArrayLike, device) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        x = np.asarray(x, dtype=np.float32)
    return torch.as_tensor(x, dtype=torch.float32).to(device)


def _unpacked_kwargs(model_tag: str, cachedir=None) -> dict:
    """A packed zip (or model-zoo name) -> train_config / model_file / vocoder_file paths."""
    from espnet_ext.zoo import unpack_model

    files = unpack_model(model_tag, cachedir)
    kwargs = {}
    for key, path in files.items():
        if key.endswith("train_config") or key == "config":
            kwargs["train_config"] = path
        elif key.endswith("vocoder_file"):
            kwargs["vocoder_file"] = path
        elif key.endswith("model_file"):
            kwargs["model_file"] = path
    if "train_config" not in kwargs or "model_file" not in kwargs:
        raise ValueError(f"{model_tag}: the pack has no train_config / model_file entries (it has {sorted(files)})")
    return kwargs


class _Inference:
    """Shared loading: the model in eval mode, its text converter, ``from_pretrained``.

    ``quantize="int8"``: the decoder's linears (the text / speech decoder layers, also the
    Y-decoder's) with int8 weights and dynamically quantized activations (CPU only; see
    espnet_ext.speecht5.quantize): a quarter of the weight bytes per decoding step, at an accuracy
    cost that benchmarks/quantize_int8.py measures.
    """

    def __init__(self, train_config, model_file, device: str = "cpu", quantize: str = "none"):
        self.model, self.train_args = STTATTSTask.build_model_from_file(train_config, model_file, device)
        self.model.eval()
        self.device = device
        self.converter = CharTextConverter(self.model.token_list)
        if quantize not in QUANTIZE_CHOICES:
            raise ValueError(f"quantize must be one of {QUANTIZE_CHOICES}, got {quantize!r}")
        if quantize == "int8":
            if torch.device(device).type != "cpu":
                raise ValueError("quantize='int8' runs on the CPU only (torch's dynamic int8 kernels)")
            for decoder in (self.model.backbone.decoder, self.model.speech_decoder):
                if decoder is not None:
                    quantize_int8(decoder)

    @classmethod
    def from_pretrained(cls, model_tag: Optional[str] = None, cachedir=None, **kwargs):
        """``model_tag``: a packed zip (ESPnet model-zoo format, unpacked by espnet_model_zoo's
        ModelDownloader into ``cachedir``, default its own) or a model-zoo name; else pass
        ``train_config`` and ``model_file``. Other keyword arguments go to the constructor."""
        if model_tag is not None:
            unpacked = _unpacked_kwargs(model_tag, cachedir)
            if kwargs.get("vocoder_file") is not None:
                unpacked.pop("vocoder_file", None)  # an explicit vocoder wins over the packed one
            kwargs.update(unpacked)
        return cls(**kwargs)


class Speech2Text(_Inference):
    """ASR: waveform (S,) at 16 kHz -> n-best list of (text, tokens, token_ids, hyp).

    ``batch(speeches)`` decodes several utterances at once (one decoder batch of utterances x
    beam); each gets the hypotheses it gets alone. The search makes ESPnet's ``BatchBeamSearch``
    decisions (see espnet_ext.sttatts.beam_search); ``use_espnet_beam_search=True`` runs ESPnet's
    ``BatchBeamSearch`` + ``CTCPrefixScorer`` itself instead (one utterance at a time: the
    reference the faster search is checked and benchmarked against).

    Length limits are ESPnet's: ``maxlenratio`` 0 = as many labels as encoder frames, with
    ESPnet's end detection; > 0 = ``int(maxlenratio * frames)`` labels; < 0 = a fixed number.
    With CTC (``ctc_weight`` > 0) the maximum is clamped to the encoder length: a CTC path emits
    at most one label per frame, and ESPnet's CTC prefix scorer indexes past the last frame otherwise.
    """

    def __init__(
        self,
        train_config=None,
        model_file=None,
        device: str = "cpu",
        beam_size: int = 5,
        ctc_weight: float = 0.5,
        nbest: int = 1,
        maxlenratio: float = 0.0,
        minlenratio: float = 0.0,
        use_espnet_beam_search: bool = False,
        ctc_draft: bool = False,
        quantize: str = "none",
    ):
        super().__init__(train_config, model_file, device, quantize)
        if not 0.0 <= ctc_weight <= 1.0:
            raise ValueError(f"ctc_weight must be in [0, 1], got {ctc_weight}")
        self.beam_size, self.ctc_weight, self.nbest = beam_size, ctc_weight, nbest
        self.maxlenratio, self.minlenratio = maxlenratio, minlenratio
        self.greedy = beam_size == 1 and ctc_weight == 0.0
        # greedy only: the CTC best path drafts the hypothesis, one decoder pass verifies it (same
        # tokens, fewer decoder passes; see ctc_drafted_greedy_decode_text, also for why not beam)
        self.ctc_draft = ctc_draft and self.greedy
        self.draft_stats: dict = {}  # summed over calls: passes, tokens, drafted, accepted
        # None: our batched search; an ESPnet BatchBeamSearch: that one, utterance by utterance
        self.beam_search = self._beam_search() if use_espnet_beam_search and not self.greedy else None
        self.search_options = BeamSearchOptions(beam_size, ctc_weight, maxlenratio, minlenratio)
        self.ctc_view = BlankFirstCTC(self.model.ctc, self.model.specials["blank"], never_output_ids(self.model))

    def _beam_search(self) -> BatchBeamSearch:
        m = self.model
        scorers, weights = {}, {}
        if self.ctc_weight < 1.0:
            scorers["decoder"] = TextDecoderScorer(m)
            weights["decoder"] = 1.0 - self.ctc_weight
        if self.ctc_weight > 0.0:
            ctc = BlankFirstCTC(m.ctc, m.specials["blank"], never_output_ids(m))
            scorers["ctc"] = CTCPrefixScorer(ctc=ctc, eos=m.specials["eos"])
            weights["ctc"] = self.ctc_weight
        eos = m.specials["eos"]  # SpeechT5 starts decoding with eos
        search = BatchBeamSearch(
            scorers=scorers,
            weights=weights,
            beam_size=self.beam_size,
            vocab_size=len(m.token_list),
            sos=eos,
            eos=eos,
            token_list=m.token_list,
            pre_beam_score_key=None if self.ctc_weight == 1.0 else "full",
        )
        return search.to(device=self.device).eval()

    @torch.no_grad()
    def __call__(self, speech: ArrayLike) -> List[tuple]:
        if self.beam_search is not None:
            return self._espnet_search(speech)
        return self.batch([speech])[0]

    @torch.no_grad()
    def batch(self, speeches: Sequence[ArrayLike]) -> List[List[tuple]]:
        """Decode several waveforms (S_i,) at once -> per utterance its n-best list."""
        wavs = [_as_float_tensor(s, self.device).view(-1) for s in speeches]
        enc, pad_mask, memory = self.model.encode("asr", wavs)
        if self.ctc_draft:
            nbests = [[h] for h in self._drafted_greedy(enc, memory, pad_mask)]
        elif self.greedy:
            nbests = [[h] for h in self._greedy(memory, pad_mask)]
        else:
            ctc_logp = self.ctc_view.log_softmax(enc) if self.ctc_weight > 0 else None
            nbests = batch_beam_search(
                self.model, enc, memory, pad_mask, self.search_options, never_output_ids(self.model), ctc_logp
            )
        return [self._results(hyps[: self.nbest]) for hyps in nbests]

    def _espnet_search(self, speech: ArrayLike) -> List[tuple]:
        wav = _as_float_tensor(speech, self.device).view(1, -1)
        enc, pad_mask, memory = self.model.encode("asr", wav, torch.tensor([wav.size(1)], device=self.device))
        maxlenratio = self.maxlenratio
        if self.ctc_weight > 0:  # clamp to the encoder length, as a fixed (negative) length for ESPnet
            maxlen, _ = length_limits(enc.size(1), maxlenratio, self.minlenratio, clamp_to_frames=True)
            if maxlenratio != 0:
                maxlenratio = -float(maxlen)
        hyps = self.beam_search(x=enc[0], maxlenratio=maxlenratio, minlenratio=self.minlenratio)
        return self._results(hyps[: self.nbest])

    def _results(self, hyps: Sequence[Hypothesis]) -> List[tuple]:
        results = []
        for hyp in hyps:
            ids = [int(i) for i in hyp.yseq[1:-1]]  # without the start and the end eos
            tokens = self.converter.ids2tokens(ids)
            results.append((self.converter.tokenizer.tokens2text(tokens), tokens, ids, hyp))
        return results

    def _greedy(self, memory, pad_mask) -> List[Hypothesis]:
        """Greedy decoding of a batch; utterance b runs at most its own maximum length (greedy
        decisions never depend on later steps, so cutting a longer run there is exact)."""
        maxlens = self._greedy_maxlens(pad_mask)
        ys_all, logp = greedy_decode_text(self.model.backbone, memory, pad_mask, max(maxlens), return_logp=True)
        return [self._greedy_hypothesis(ys_all[b, : 1 + maxlen], logp[b]) for b, maxlen in enumerate(maxlens)]

    def _drafted_greedy(self, enc, memory, pad_mask) -> List[Hypothesis]:
        """Greedy decoding, utterance by utterance, drafted by the CTC best path (same tokens)."""
        ctc_logp = self.model.ctc.log_softmax(enc)
        hyps = []
        for b, maxlen in enumerate(self._greedy_maxlens(pad_mask)):
            frames = int((~pad_mask[b]).sum())
            draft = ctc_greedy_draft(ctc_logp[b, :frames], self.model.specials["blank"])
            ys, logp = ctc_drafted_greedy_decode_text(
                self.model.backbone, memory[b : b + 1, :frames], pad_mask[b : b + 1, :frames], draft, maxlen,
                self.draft_stats,
            )
            hyps.append(self._greedy_hypothesis(ys, logp))
        return hyps

    def _greedy_maxlens(self, pad_mask) -> List[int]:
        frames = (~pad_mask).sum(1).tolist()
        return [length_limits(t, self.maxlenratio, 0.0, clamp_to_frames=False)[0] for t in frames]

    def _greedy_hypothesis(self, ys: torch.Tensor, logp: torch.Tensor) -> Hypothesis:
        """ys (1 + n,) start eos + greedy tokens (cut at maxlen; entries after an eos are ignored),
        logp (>= n,) their log-probabilities -> ESPnet Hypothesis."""
        eos = self.model.specials["eos"]
        ended = (ys[1:] == eos).nonzero()
        ys = ys[: int(ended[0]) + 2] if len(ended) else ys  # start eos + tokens (+ the predicted eos)
        score = logp[: len(ys) - 1].sum()  # log-probability of the path
        # as ESPnet's beam search: a hypothesis cut at maxlen gets an unscored eos
        yseq = ys if len(ended) else torch.cat([ys, ys.new_tensor([eos])])
        return Hypothesis(yseq=yseq, score=score, scores={"decoder": score}, states={})


class _SpeechGeneration(_Inference):
    """Shared TTS / VC generation: KV-cached frames, fairseq stop rule, postnet at the end, vocoder."""

    task = ""

    def __init__(
        self,
        train_config=None,
        model_file=None,
        device: str = "cpu",
        threshold: float = 0.5,
        minlenratio: float = 0.0,
        maxlenratio: float = 20.0,
        use_prenet_dropout: bool = True,
        vocoder_file: Optional[str] = None,
        quantize: str = "none",
    ):
        super().__init__(train_config, model_file, device, quantize)
        self.threshold, self.minlenratio, self.maxlenratio = threshold, minlenratio, maxlenratio
        # Tacotron-style: the pre-net dropout stays on at inference unless turned off
        self.model.backbone.speech_decoder_prenet.dropout_at_inference = use_prenet_dropout
        from espnet_ext.vocoder import load_vocoder

        mel = mel_config(self.model.feats_extract)
        self.vocoder = load_vocoder(vocoder_file, **mel.to_dict())
        self.fs = mel.fs

    def _generate(self, memory, pad_mask, spembs: Optional[Sequence[ArrayLike]], need_attn=True, vocode=True) -> List[dict]:
        """Synthesize a batch from its encoder memory (B, T, D); spembs: one per utterance or None."""
        spk = None
        if spembs is not None and any(e is not None for e in spembs):
            spk = torch.stack([_as_float_tensor(e, self.device).view(-1) for e in spembs])
        outs = synthesize_speech(
            _SpeechDecoding(self.model), memory, pad_mask, spk, self.threshold, self.minlenratio, self.maxlenratio,
            stop_rule="any", need_attn=need_attn,
        )
        results = []
        for out in outs:
            feat = out["feat_after"]
            result = {
                "feat_gen": feat,
                "feat_gen_before": out["feat_before"],
                "prob": out["prob"],
                "stop_fired": out["stop_fired"],
            }
            if "att_ws" in out:
                result["att_w"] = out["att_ws"]
            if vocode:
                result["wav"] = torch.from_numpy(self.vocoder(feat.cpu().numpy()))
            results.append(result)
        return results

    def attention_map(self, att_w: torch.Tensor) -> torch.Tensor:
        """(layers, heads, steps, L) cross-attention -> one (steps, L) map for plots: the mean over
        the heads and layers the guided attention loss trains (all heads of the last layer when
        the model has no guided attention)."""
        guided = self.model.guided_attn
        if guided is None:
            return att_w[-1].mean(0)
        att = att_w if guided.layers is None else att_w[guided.layers]
        att = att if guided.num_heads < 0 else att[:, : guided.num_heads]
        return att.mean((0, 1))


class _SpeechDecoding:
    """The model's speech decoder in the shape ``synthesize_speech`` takes (so the Y-decoder's own
    speech decoder is the one that runs)."""

    def __init__(self, model: ESPnetSTTATTSModel):
        self.model = model
        self.cfg = model.backbone.cfg
        self.speech_decoder_postnet = model.backbone.speech_decoder_postnet

    def new_cache(self):
        return self.model.new_speech_cache()

    def decode_speech(self, *args, **kwargs):
        return self.model.decode_speech(*args, **kwargs)


class Text2Speech(_SpeechGeneration):
    """TTS: text (str) or token ids + speaker embedding -> dict(feat_gen (T, 80) log10 mel after the
    postnet, feat_gen_before, prob (T,) stop probabilities, att_w (layers, heads, T / r, L), wav).

    A string is tokenized and ``</s>`` appended (as SpeechT5's tokenizer does); token ids are used
    exactly as given.
    """

    task = "tts"

    @torch.no_grad()
    def __call__(self, text: Union[str, Sequence[int], ArrayLike], spembs: Optional[ArrayLike] = None) -> dict:
        return self.batch([text], [spembs], need_attn=True)[0]

    @torch.no_grad()
    def batch(
        self,
        texts: Sequence[Union[str, Sequence[int], ArrayLike]],
        spembs: Optional[Sequence[Optional[ArrayLike]]] = None,
        need_attn: bool = False,
        vocode: bool = True,
    ) -> List[dict]:
        """Synthesize several texts at once (one decoder batch); each gets what it gets alone (with
        the pre-net dropout off: its random draws depend on the batch). Without ``need_attn`` the
        dicts have no ``att_w`` (the fused attention kernel runs); without ``vocode`` no ``wav``."""
        ids = [self._ids(t) for t in texts]
        lengths = torch.tensor([len(i) for i in ids], device=self.device)
        tokens = torch.full((len(ids), int(lengths.max())), -1, dtype=torch.long, device=self.device)
        for b, i in enumerate(ids):
            tokens[b, : len(i)] = torch.tensor(i, dtype=torch.long)
        _, pad_mask, memory = self.model.encode("tts", tokens=tokens, token_lengths=lengths)
        return self._generate(memory, pad_mask, spembs, need_attn, vocode)

    def _ids(self, text) -> List[int]:
        if isinstance(text, str):
            return list(self.converter.text2ids(text)) + [self.model.specials["eos"]]
        return [int(i) for i in np.asarray(text).reshape(-1)]


class Speech2Speech(_SpeechGeneration):
    """VC: source waveform (S,) at 16 kHz + TARGET speaker embedding -> the dict of Text2Speech."""

    task = "vc"

    @torch.no_grad()
    def __call__(self, speech: ArrayLike, spembs: Optional[ArrayLike] = None) -> dict:
        return self.batch([speech], [spembs], need_attn=True)[0]

    @torch.no_grad()
    def batch(
        self,
        speeches: Sequence[ArrayLike],
        spembs: Optional[Sequence[Optional[ArrayLike]]] = None,
        need_attn: bool = False,
        vocode: bool = True,
    ) -> List[dict]:
        """Convert several waveforms at once (see Text2Speech.batch)."""
        wavs = [_as_float_tensor(s, self.device).view(-1) for s in speeches]
        _, pad_mask, memory = self.model.encode("vc", wavs)
        return self._generate(memory, pad_mask, spembs, need_attn, vocode)


# ------------------------------------------------------------------------------------ CLI
def get_parser() -> argparse.ArgumentParser:
    from espnet2.utils import config_argparse
    from espnet2.utils.types import str2bool, str2triple_str, str_or_none

    p = config_argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", required=True, choices=("asr", "tts", "vc"))
    p.add_argument("--output_dir", required=True)
    p.add_argument("--data_path_and_name_and_type", type=str2triple_str, action="append", required=True)
    p.add_argument("--key_file", type=str_or_none, default=None)
    p.add_argument("--train_config", type=str_or_none, default=None)
    p.add_argument("--model_file", type=str_or_none, default=None)
    p.add_argument("--model_tag", type=str_or_none, default=None, help="packed zip instead of config + model")
    p.add_argument("--ngpu", type=int, default=0)
    p.add_argument("--seed", type=int, default=0, help="seed of the pre-net dropout (TTS, VC)")
    p.add_argument("--num_workers", type=int, default=1)
    p.add_argument("--batch_size", type=int, default=1,
                   help="utterances decoded together (one decoder batch); each gets the output it gets alone, "
                        "except TTS / VC with the pre-net dropout on (its random draws depend on the batch)")
    p.add_argument("--log_level", default="INFO")
    p.add_argument("--quantize", default="none", choices=QUANTIZE_CHOICES,
                   help="int8: the decoder's linears with int8 weights (CPU; faster steps, small accuracy cost)")
    g = p.add_argument_group("ASR")
    g.add_argument("--beam_size", type=int, default=5)
    g.add_argument("--ctc_weight", type=float, default=0.5)
    g.add_argument("--nbest", type=int, default=1)
    g.add_argument("--ctc_draft", type=str2bool, default=False,
                   help="greedy (beam 1, ctc_weight 0): the CTC best path drafts the hypothesis, one decoder pass "
                        "verifies it (the same tokens with fewer decoder passes)")
    g = p.add_argument_group("ASR / TTS / VC length limits (default: ASR 0 = the encoder length, TTS/VC 0 and 20)")
    g.add_argument("--maxlenratio", type=float, default=None)
    g.add_argument("--minlenratio", type=float, default=None)
    g = p.add_argument_group("TTS / VC")
    g.add_argument("--threshold", type=float, default=0.5)
    g.add_argument("--use_prenet_dropout", type=str2bool, default=True)
    g.add_argument("--vocoder_file", type=str_or_none, default=None, help="none = Griffin-Lim")
    g.add_argument("--num_plots", type=int, default=2,
                   help="first N utterances: save plots/<key>_{att,prob,feat}.npy (attention map (steps, L), "
                        "stop probabilities (T,), generated mel (T, n_mels)) for scoring's figures")
    return p


def _build(args) -> _Inference:
    device = "cuda" if args.ngpu > 0 else "cpu"
    common = dict(train_config=args.train_config, model_file=args.model_file, device=device, quantize=args.quantize)
    if args.model_tag is not None:
        common = dict(model_tag=args.model_tag, device=device, quantize=args.quantize)
    if args.task == "asr":
        lengths = dict(maxlenratio=args.maxlenratio or 0.0, minlenratio=args.minlenratio or 0.0)
        return Speech2Text.from_pretrained(
            beam_size=args.beam_size, ctc_weight=args.ctc_weight, nbest=args.nbest, ctc_draft=args.ctc_draft,
            **lengths, **common,
        )
    lengths = dict(
        maxlenratio=20.0 if args.maxlenratio is None else args.maxlenratio,
        minlenratio=0.0 if args.minlenratio is None else args.minlenratio,
    )
    cls = Text2Speech if args.task == "tts" else Speech2Speech
    return cls.from_pretrained(
        threshold=args.threshold, use_prenet_dropout=args.use_prenet_dropout, vocoder_file=args.vocoder_file,
        **lengths, **common,
    )


def inference(args) -> None:
    torch.manual_seed(args.seed)
    runner = _build(args)
    train_args = runner.train_args
    preprocess = STTATTSPreprocessor(train_args.token_list, train_args.categories, default_category=args.task, train=False)
    loader = STTATTSTask.build_streaming_iterator(
        args.data_path_and_name_and_type,
        preprocess_fn=preprocess,
        collate_fn=STTATTSTask.build_collate_fn(train_args, False),
        key_file=args.key_file,
        dtype="float32",
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        inference=True,
    )
    final = Path(args.output_dir)
    out = final.with_name(f".{final.name}.partial")  # hidden: the recipe's output.* glob skips it
    if out.exists():
        shutil.rmtree(out)  # left by an interrupted run
    out.mkdir(parents=True)
    _decode(args, runner, loader, out, final)
    if final.exists():
        shutil.rmtree(final)
    out.rename(final)


def _decode(args, runner, loader, out: Path, final: Path) -> None:
    """Decode every utterance of ``loader`` into ``out``; scp files already point into ``final``."""
    import kaldiio
    import soundfile as sf
    from espnet2.fileio.datadir_writer import DatadirWriter

    eos = runner.model.specials["eos"]
    if args.task == "asr":
        with DatadirWriter(out) as writer:
            for keys, batch in loader:
                lengths = batch["speech_lengths"].tolist()
                nbests = runner.batch([batch["speech"][i, : lengths[i]] for i in range(len(keys))])
                for key, results in zip(keys, nbests):
                    for n, (text, tokens, ids, hyp) in enumerate(results, 1):
                        w = writer[f"{n}best_recog"]
                        w["text"][key] = text
                        w["token"][key] = " ".join(tokens)
                        w["token_int"][key] = " ".join(map(str, ids))
                        w["score"][key] = str(float(hyp.score))
                    logging.info(f"{key}: {results[0][0] if results else ''}")
        return
    (out / "wav").mkdir(exist_ok=True)
    shapes, wavs, fired = [], [], []
    plotted = 0
    with kaldiio.WriteHelper(f"ark,scp:{out / 'feats.ark'},{out / 'feats.scp'}") as feats_writer:
        for keys, batch in loader:
            n = len(keys)
            if args.task == "tts":
                lengths = batch["text_lengths"].tolist()
                inputs = [batch["text"][i, : lengths[i]].tolist() + [eos] for i in range(n)]
            else:
                lengths = batch["speech_lengths"].tolist()
                inputs = [batch["speech"][i, : lengths[i]] for i in range(n)]
            spembs = [batch["spembs"][i] for i in range(n)] if "spembs" in batch else None
            # cross-attention (the non-fused path) only while utterances for plots remain
            results = runner.batch(inputs, spembs, need_attn=plotted < args.num_plots)
            for key, result in zip(keys, results):
                feat = result["feat_gen"].cpu().numpy()
                feats_writer[key] = feat
                sf.write(out / "wav" / f"{key}.wav", result["wav"].numpy(), runner.fs, "PCM_16")
                shapes.append(f"{key} {feat.shape[0]},{feat.shape[1]}\n")
                wavs.append(f"{key} {final / 'wav' / f'{key}.wav'}\n")
                fired.append(f"{key} {int(result['stop_fired'])}\n")
                if plotted < args.num_plots:
                    _save_plot_data(out / "plots", key, runner.attention_map(result["att_w"]), result["prob"], feat)
                    plotted += 1
                logging.info(f"{key}: {feat.shape[0]} frames" + ("" if result["stop_fired"] else " (max length)"))
    (out / "speech_shape").write_text("".join(shapes), encoding="utf-8")
    (out / "wav.scp").write_text("".join(wavs), encoding="utf-8")
    (out / "stop_fired").write_text("".join(fired), encoding="utf-8")
    # kaldiio wrote the ark path it was given; point feats.scp at where the ark will be
    feats_scp = out / "feats.scp"
    feats_scp.write_text(
        feats_scp.read_text(encoding="utf-8").replace(f" {out / 'feats.ark'}:", f" {final / 'feats.ark'}:"),
        encoding="utf-8",
    )


def _save_plot_data(plots: Path, key: str, att: torch.Tensor, prob: torch.Tensor, feat: np.ndarray) -> None:
    """plots/<key>_att.npy (steps, L), <key>_prob.npy (T,), <key>_feat.npy (T, n_mels): what
    score_sttatts draws (attention map, stop probability, generated mel)."""
    plots.mkdir(exist_ok=True)
    np.save(plots / f"{key}_att.npy", att.float().cpu().numpy())
    np.save(plots / f"{key}_prob.npy", prob.float().cpu().numpy())
    np.save(plots / f"{key}_feat.npy", feat)


def main(cmd=None) -> int:
    args = get_parser().parse_args(cmd)
    logging.basicConfig(level=args.log_level, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    if args.model_tag is None and (args.train_config is None or args.model_file is None):
        raise SystemExit("give --model_tag, or --train_config and --model_file")
    inference(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
