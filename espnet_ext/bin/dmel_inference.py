"""Inference with a trained dMel LM: ``Speech2Text`` (ASR) and ``Text2Speech`` (TTS), plus a CLI.

    from espnet_ext.bin.dmel_inference import Speech2Text, Text2Speech
    asr = Speech2Text.from_pretrained("exp/dmel/model.zip", beam_size=5)
    text, tokens, token_ids, score = asr(wav)[0]            # wav (S,) 16 kHz, or dMel tokens (T, 80)
    tts = Text2Speech(train_config="exp/dmel/config.yaml", model_file="exp/dmel/valid.loss.ave.pth")
    out = tts("hello world", spembs=dvector)                 # dict: tokens, feat_gen, wav, ended

CLI (stage 6 of the recipe; ESPnet's data options):

    python -m espnet_ext.bin.dmel_inference --job asr --train_config C --model_file M --output_dir D \
        --data_path_and_name_and_type dump/raw/test/dmel.scp,speech,kaldi_ark [--beam_size 5]
    python -m espnet_ext.bin.dmel_inference --job tts --train_config C --model_file M --output_dir D \
        --data_path_and_name_and_type dump/raw/test/text,text,text \
        --data_path_and_name_and_type dump/raw/test/dvector.scp,spembs,kaldi_ark [--vocoder_file V]

Outputs: ASR ``D/1best_recog/{text,token,token_int,score}`` (as ESPnet's asr_inference); TTS
``D/wav/<utt>.wav`` + ``D/wav.scp``, the decoded log-mel ``D/feats.{ark,scp}``, the generated tokens
``D/dmel.{ark,scp}``, ``D/speech_shape`` (frames) and ``D/ended`` (false = cut at the length limit).
"""
import argparse
import inspect
import logging
import sys
from pathlib import Path
from typing import List, Optional, Tuple, Union

import kaldiio
import numpy as np
import soundfile as sf
import torch
from espnet2.fileio.datadir_writer import DatadirWriter
from espnet2.text.char_tokenizer import CharTokenizer
from espnet2.text.token_id_converter import TokenIDConverter
from espnet2.utils.types import str2triple_str, str_or_none

from espnet_ext.tasks.dmel_lm import SPACE, DMelLMTask


def _unpacked(cls, model_tag: Optional[str], cachedir, kwargs: dict) -> dict:
    """kwargs + the files of a packed model zip (``espnet_ext.zoo.unpack_model``: verified, then
    unpacked by espnet_model_zoo into ``cachedir``), restricted to what ``cls`` accepts (a zip may
    carry more files, e.g. the bin table, which the checkpoint holds too)."""
    if model_tag is None:
        return kwargs
    from espnet_ext.zoo import unpack_model

    files = unpack_model(model_tag, cachedir=cachedir)
    accepted = set(inspect.signature(cls.__init__).parameters)
    unused = sorted(k for k in files if k not in accepted)
    if unused:
        logging.info("model zip files not used by %s: %s", cls.__name__, unused)
    return {**{k: v for k, v in files.items() if k in accepted}, **kwargs}


def _load(train_config, model_file, device: str, jobs: Tuple[str, ...]):
    model, args = DMelLMTask.build_model_from_file(train_config, model_file, device)
    if model.job not in jobs:
        raise ValueError(f"{model_file} was trained for {model.job!r}; this needs one of {jobs}")
    return model.eval(), args


def _as_tensor(x, device) -> torch.Tensor:
    return x.to(device) if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x), device=device)


class Speech2Text:
    """dMel ASR: waveform (S,) at the tokenizer's rate, or tokens (T, n_mels) -> n-best list.

    Each hypothesis is ``(text, tokens, token_ids, score)``; beam_size 1 is greedy decoding; at
    most ``maxlenratio`` characters per speech frame are generated.
    """

    def __init__(
        self,
        train_config: Union[Path, str, None] = None,
        model_file: Union[Path, str, None] = None,
        device: str = "cpu",
        beam_size: int = 1,
        nbest: int = 1,
        maxlenratio: float = 0.5,
    ):
        self.model, self.train_args = _load(train_config, model_file, device, ("asr", "joint"))
        self.device = device
        self.beam_size, self.nbest, self.maxlenratio = beam_size, min(nbest, beam_size), maxlenratio
        self.converter = TokenIDConverter(self.model.token_list)
        self.chars = CharTokenizer(space_symbol=getattr(self.train_args, "space_symbol", SPACE))

    @torch.no_grad()
    def __call__(self, speech) -> List[Tuple[str, List[str], List[int], float]]:
        speech = _as_tensor(speech, self.device)
        if speech.dim() == 2:  # precomputed tokens (T, n_mels)
            tokens = speech.round().long()
        else:
            tokens = self.model.tokenizer.encode(speech.float()[None])[0][0]
        hyps = self.model.recognize(tokens, beam_size=self.beam_size, maxlenratio=self.maxlenratio)
        results = []
        for hyp in hyps[: self.nbest]:
            ids = [t for t in hyp.tokens if t != self.model.text_eos]
            toks = self.converter.ids2tokens(ids)
            results.append((self.chars.tokens2text(toks), toks, ids, hyp.score))
        return results

    @staticmethod
    def from_pretrained(model_tag: Optional[str] = None, cachedir=None, **kwargs) -> "Speech2Text":
        """``model_tag``: a packed zip (or model-zoo name) with ``train_config`` and ``model_file``;
        ``cachedir``: where to unpack (espnet_model_zoo's default when None)."""
        return Speech2Text(**_unpacked(Speech2Text, model_tag, cachedir, kwargs))


# Sampling temperature of the TTS: 0.7, not plain sampling (1.0). On the mini recipe's held-out TTS
# split it lowered the judge CER of both models (tts 100.9 -> 89.1 %, joint 186.1 -> 87.3 %; 0.4:
# 91.5 / 94.6 %): egs2/librispeech/dmel1/RESULTS.md, "Sampling temperature".
DEFAULT_TEMPERATURE = 0.7


class Text2Speech:
    """dMel TTS: text (str, or character ids) + speaker d-vector -> dict(tokens, feat_gen, wav, ended).

    Frames are sampled channel by channel in parallel (temperature, top-k; temperature 0 = argmax)
    until the eos frame or ``maxlenratio`` frames per character. ``feat_gen`` is the decoded log10
    mel (T, n_mels); ``wav`` comes from ``vocoder`` (a callable mel -> waveform), else from
    ``espnet_ext.vocoder.load_vocoder(vocoder_file)`` for the tokenizer's mel settings
    (Griffin-Lim when ``vocoder_file`` is None). ``seed`` fixes the sampling stream.
    """

    def __init__(
        self,
        train_config: Union[Path, str, None] = None,
        model_file: Union[Path, str, None] = None,
        vocoder_file: Union[Path, str, None] = None,
        device: str = "cpu",
        maxlenratio: float = 10.0,
        minlenratio: float = 0.0,
        temperature: float = DEFAULT_TEMPERATURE,
        top_k: int = 0,
        eos_threshold: float = 0.5,
        seed: int = 0,
        vocoder=None,
    ):
        self.model, self.train_args = _load(train_config, model_file, device, ("tts", "joint"))
        self.device = device
        self.options = dict(maxlenratio=maxlenratio, minlenratio=minlenratio, temperature=temperature,
                            top_k=top_k, eos_threshold=eos_threshold)
        self.generator = torch.Generator().manual_seed(seed)
        self.preprocess_fn = DMelLMTask.build_preprocess_fn(self.train_args, False)
        if vocoder is None:
            from espnet_ext.vocoder import load_vocoder

            vocoder = load_vocoder(None if vocoder_file is None else str(vocoder_file), **self.model.tokenizer.mel_settings())
        self.vocoder = vocoder

    @property
    def fs(self) -> int:
        return self.model.tokenizer.fs

    def text_ids(self, text: str) -> torch.Tensor:
        return torch.as_tensor(self.preprocess_fn("<dummy>", dict(text=text))["text"], device=self.device)

    @torch.no_grad()
    def __call__(self, text, spembs=None) -> dict:
        ids = self.text_ids(text) if isinstance(text, str) else _as_tensor(text, self.device).long().flatten()
        spembs = None if spembs is None else _as_tensor(spembs, self.device).float()
        tokens, ended = self.model.synthesize(ids, spembs, generator=self.generator, **self.options)
        mel = self.model.tokenizer.decode(tokens)
        wav = self.vocoder(mel.cpu()) if len(mel) else np.zeros(0, dtype=np.float32)
        return dict(tokens=tokens, feat_gen=mel, wav=torch.as_tensor(np.asarray(wav, dtype=np.float32)), ended=ended)

    @staticmethod
    def from_pretrained(model_tag: Optional[str] = None, cachedir=None, **kwargs) -> "Text2Speech":
        """``model_tag``: a packed zip (or model-zoo name) with ``train_config``, ``model_file``
        (and optionally ``vocoder_file``); ``cachedir``: where to unpack."""
        return Text2Speech(**_unpacked(Text2Speech, model_tag, cachedir, kwargs))


# -- CLI -----------------------------------------------------------------------------------------
def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--job", required=True, choices=["asr", "tts"])
    p.add_argument("--output_dir", required=True)
    p.add_argument("--train_config", type=str_or_none, default=None)
    p.add_argument("--model_file", type=str_or_none, default=None)
    p.add_argument("--model_tag", type=str_or_none, default=None, help="a packed model zip instead of config + model")
    p.add_argument("--cachedir", type=str_or_none, default=None, help="where --model_tag is unpacked")
    p.add_argument("--data_path_and_name_and_type", type=str2triple_str, required=True, action="append")
    p.add_argument("--key_file", type=str_or_none, default=None, help="decode only these keys (job splitting)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--log_level", default="INFO")
    asr = p.add_argument_group("ASR")
    asr.add_argument("--beam_size", type=int, default=1)
    asr.add_argument("--nbest", type=int, default=1)
    asr.add_argument("--asr_maxlenratio", type=float, default=0.5, help="max characters per speech frame")
    tts = p.add_argument_group("TTS")
    tts.add_argument("--vocoder_file", type=str_or_none, default=None, help="None = Griffin-Lim")
    tts.add_argument("--tts_maxlenratio", type=float, default=10.0, help="max frames per character")
    tts.add_argument("--tts_minlenratio", type=float, default=0.0, help="min frames per character")
    tts.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE,
                     help="sampling temperature of every channel (0 = argmax, 1 = plain sampling)")
    tts.add_argument("--top_k", type=int, default=0)
    tts.add_argument("--eos_threshold", type=float, default=0.5, help="mean eos probability over channels that ends")
    tts.add_argument("--seed", type=int, default=0)
    return p


def _iterator(train_args, data, key_file):
    return DMelLMTask.build_streaming_iterator(
        data, key_file=key_file, batch_size=1, dtype="float32", num_workers=1,
        preprocess_fn=DMelLMTask.build_preprocess_fn(train_args, False),
        collate_fn=DMelLMTask.build_collate_fn(train_args, False), inference=True,
    )


def _decode_asr(args, out: Path) -> None:
    model_args = dict(train_config=args.train_config, model_file=args.model_file)
    s2t = Speech2Text.from_pretrained(args.model_tag, args.cachedir, device=args.device, beam_size=args.beam_size,
                                      nbest=args.nbest, maxlenratio=args.asr_maxlenratio,
                                      **({} if args.model_tag else model_args))
    with DatadirWriter(out) as writer:
        for keys, batch in _iterator(s2t.train_args, args.data_path_and_name_and_type, args.key_file):
            speech = batch["speech"][0, : int(batch["speech_lengths"][0])]
            hyps = s2t(speech)
            for n, (text, toks, ids, score) in enumerate(hyps, start=1):
                w = writer[f"{n}best_recog"]
                w["text"][keys[0]] = text
                w["token"][keys[0]] = " ".join(toks)
                w["token_int"][keys[0]] = " ".join(map(str, ids))
                w["score"][keys[0]] = str(score)
            logging.info("%s: %s", keys[0], hyps[0][0] if hyps else "")


def _synthesize_tts(args, out: Path) -> None:
    model_args = dict(train_config=args.train_config, model_file=args.model_file)
    t2s = Text2Speech.from_pretrained(
        args.model_tag, args.cachedir, device=args.device, vocoder_file=args.vocoder_file, maxlenratio=args.tts_maxlenratio,
        minlenratio=args.tts_minlenratio, temperature=args.temperature, top_k=args.top_k,
        eos_threshold=args.eos_threshold, seed=args.seed, **({} if args.model_tag else model_args),
    )
    (out / "wav").mkdir(parents=True, exist_ok=True)
    wav_scp, shapes, ended = {}, {}, {}
    with kaldiio.WriteHelper(f"ark,scp:{out / 'feats.ark'},{out / 'feats.scp'}") as feats_writer, \
            kaldiio.WriteHelper(f"ark,scp:{out / 'dmel.ark'},{out / 'dmel.scp'}") as dmel_writer:
        for keys, batch in _iterator(t2s.train_args, args.data_path_and_name_and_type, args.key_file):
            key = keys[0]
            text = batch["text"][0, : int(batch["text_lengths"][0])]
            spembs = batch["spembs"][0] if "spembs" in batch else None
            result = t2s(text, spembs)
            path = (out / "wav" / f"{key}.wav").resolve()
            sf.write(path, result["wav"].numpy(), t2s.fs, subtype="PCM_16")
            feats_writer(key, result["feat_gen"].cpu().numpy().astype(np.float32))
            dmel_writer(key, result["tokens"].cpu().numpy().astype(np.float32))
            wav_scp[key], shapes[key], ended[key] = str(path), str(len(result["tokens"])), str(result["ended"]).lower()
            logging.info("%s: %d frames (%s)", key, len(result["tokens"]), "eos" if result["ended"] else "length limit")
    for name, table in (("wav.scp", wav_scp), ("speech_shape", shapes), ("ended", ended)):
        (out / name).write_text("".join(f"{k} {v}\n" for k, v in sorted(table.items())), encoding="utf-8")


def main(cmd=None) -> int:
    args = get_parser().parse_args(cmd)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    if args.model_tag is None and args.model_file is None:
        raise SystemExit("give --model_tag, or --model_file (and --train_config)")
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (_decode_asr if args.job == "asr" else _synthesize_tts)(args, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
