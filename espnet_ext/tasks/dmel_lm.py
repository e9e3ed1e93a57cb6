"""DMelLMTask: the ESPnet task of the dMel decoder-only LM (ASR, TTS or joint; ``model_conf.job``).

    python -m espnet_ext.bin.dmel_train --config conf/dmel_mini.yaml \
        --token_list data/token_list/char/tokens.txt --output_dir exp/dmel \
        --train_data_path_and_name_and_type dump/raw/train/dmel.scp,speech,kaldi_ark \
        --train_data_path_and_name_and_type dump/raw/train/text,text,text \
        --train_data_path_and_name_and_type dump/raw/train/dvector.scp,spembs,kaldi_ark \
        --train_shape_file exp/stats/train/speech_shape ...

Data names:
    speech   dMel tokens (T, 80) as ``python -m espnet_ext.bin.dmel_tokenize`` dumps them
             (``kaldi_ark``; recommended: tokenized once, per utterance), or raw 16 kHz audio
             (``sound``; tokenized on the fly per batch). The tokens must come from the same
             ``dmel_conf`` (frame rate, bits, bin table) as the model's.
    text     transcription; characters of the token list (space = ``▁``).
    spembs   optional speaker d-vector (``kaldi_ark``); required by TTS when
             ``lm_conf.spk_embed_dim`` > 0.

Config sections: ``dmel_conf`` (``DMelTokenizer`` arguments), ``lm_conf`` (``DMelLMConfig``
fields; vocabulary sizes come from the token list and the tokenizer), ``model_conf``
(``ESPnetDMelLM``: job, asr_ratio, span masking, SpecAugment).
"""
import argparse
import logging
from pathlib import Path
from typing import Callable, Collection, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import yaml
from espnet2.tasks.abs_task import AbsTask
from espnet2.train.collate_fn import CommonCollateFn
from espnet2.train.preprocessor import CommonPreprocessor
from espnet2.utils.get_default_kwargs import get_default_kwargs
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import str2bool, str_or_none
from typeguard import typechecked

from espnet_ext.dmel.espnet_model import ESPnetDMelLM
from espnet_ext.dmel.model import DMelLM, DMelLMConfig
from espnet_ext.dmel.tokenizer import DMelTokenizer
from espnet_ext.train import AmpTrainer

SPACE = "▁"  # the space token of make_token_list's character lists
LM_FROM_DATA = ("text_vocab_size", "speech_vocab_size", "n_channels")  # set by the task
MODEL_FROM_ARGS = ("lm", "tokenizer", "token_list")


def read_token_list(token_list: Union[str, Path, Sequence[str]]) -> List[str]:
    """A token list file (one token per line) or an in-memory list -> list of tokens."""
    if isinstance(token_list, (str, Path)):
        with open(token_list, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f if line.rstrip("\n")]
    return list(token_list)


def _without(conf: dict, keys) -> dict:
    return {k: v for k, v in conf.items() if k not in keys}


def build_dmel_model(token_list: Sequence[str], dmel_conf: dict, lm_conf: dict, model_conf: dict) -> ESPnetDMelLM:
    """The model from the three config sections (what ``DMelLMTask.build_model`` does, without argparse)."""
    for section, conf, fixed in (("lm_conf", lm_conf, LM_FROM_DATA), ("model_conf", model_conf, MODEL_FROM_ARGS)):
        given = [k for k in fixed if k in (conf or {})]
        if given:
            raise ValueError(f"{section} must not set {given}: the task derives them")
    tokenizer = DMelTokenizer(**(dmel_conf or {}))
    cfg = DMelLMConfig(
        text_vocab_size=len(token_list),
        speech_vocab_size=tokenizer.vocab_size,
        n_channels=tokenizer.n_mels,
        **(lm_conf or {}),
    )
    return ESPnetDMelLM(DMelLM(cfg), tokenizer, token_list, **(model_conf or {}))


class DMelLMTask(AbsTask):
    num_optimizers: int = 1
    class_choices_list = []
    trainer = AmpTrainer  # ESPnet's Trainer; --use_amp true on CPU = bf16 autocast

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        group = parser.add_argument_group(description="Task related")
        required = parser.get_default("required")
        required += ["token_list"]
        group.add_argument("--token_list", type=str_or_none, default=None, help="Character token list (one per line)")
        group.add_argument(
            "--dmel_conf", action=NestedDictAction, default=get_default_kwargs(DMelTokenizer),
            help="DMelTokenizer arguments: frame_rate_hz, n_bits, bin_table (null = published uniform), mel settings",
        )
        group.add_argument(
            "--lm_conf", action=NestedDictAction, default=_without(get_default_kwargs(DMelLMConfig), LM_FROM_DATA),
            help="DMelLMConfig fields (n_layer, n_head, n_embd, ...); vocabulary sizes are derived",
        )
        group.add_argument(
            "--model_conf", action=NestedDictAction, default=_without(get_default_kwargs(ESPnetDMelLM), MODEL_FROM_ARGS),
            help="ESPnetDMelLM arguments: job (asr|tts|joint), asr_ratio, span_mask(_conf), specaug(_conf)",
        )
        group = parser.add_argument_group(description="Preprocess related")
        group.add_argument("--use_preprocessor", type=str2bool, default=True, help="Tokenize the text (required)")
        group.add_argument("--space_symbol", type=str, default=SPACE, help="Token of the space character")
        group.add_argument("--cleaner", type=str_or_none, default=None, choices=[None, "tacotron", "jaconv", "vietnamese"],
                           help="ESPnet text cleaner applied before tokenization")

    @classmethod
    @typechecked
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[
        [Collection[Tuple[str, Dict[str, np.ndarray]]]], Tuple[List[str], Dict[str, torch.Tensor]]
    ]:
        # Text pads with -1 (never a token id); spembs is one vector per utterance (no lengths).
        return CommonCollateFn(float_pad_value=0.0, int_pad_value=-1, not_sequence=["spembs"])

    @classmethod
    @typechecked
    def build_preprocess_fn(
        cls, args: argparse.Namespace, train: bool
    ) -> Optional[Callable[[str, Dict[str, np.array]], Dict[str, np.ndarray]]]:
        if not args.use_preprocessor:
            return None
        return CommonPreprocessor(
            train=train, token_type="char", token_list=read_token_list(args.token_list),
            space_symbol=args.space_symbol, text_cleaner=args.cleaner,
        )

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return () if inference else ("speech", "text")

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return ("speech", "text", "spembs") if inference else ("spembs",)

    @classmethod
    @typechecked
    def build_model(cls, args: argparse.Namespace) -> ESPnetDMelLM:
        token_list = read_token_list(args.token_list)
        args.token_list = list(token_list)  # config.yaml keeps the tokens themselves (portable)
        model = build_dmel_model(token_list, args.dmel_conf, args.lm_conf, args.model_conf)
        n_params = sum(p.numel() for p in model.parameters())
        logging.info(f"dMel LM: job {model.job}, vocabulary {len(token_list)}, {n_params / 1e6:.2f}M parameters")
        return model

    @classmethod
    @typechecked
    def build_model_from_file(
        cls,
        config_file: Optional[Union[Path, str]] = None,
        model_file: Optional[Union[Path, str]] = None,
        device: str = "cpu",
    ) -> Tuple[ESPnetDMelLM, argparse.Namespace]:
        """ESPnet's loader, but strict: a missing or unexpected parameter is an error (ESPnet's own
        loads with strict=False). The bin table travels in the checkpoint; if the file that
        ``dmel_conf.bin_table`` names is gone (an unpacked zip elsewhere), the checkpoint's is used."""
        if config_file is None:
            config_file = Path(model_file).parent / "config.yaml"
        with open(config_file, encoding="utf-8") as f:
            args = argparse.Namespace(**yaml.safe_load(f))
        table = (args.dmel_conf or {}).get("bin_table")
        if table is not None and not Path(table).is_file():
            if model_file is None:
                raise FileNotFoundError(f"bin table {table} (dmel_conf.bin_table in {config_file}) not found")
            logging.info(f"bin table {table} not found: using the one stored in {model_file}")
            args.dmel_conf = dict(args.dmel_conf, bin_table=None)
        model = cls.build_model(args).to(device)
        if model_file is not None:
            state = torch.load(model_file, map_location=device, weights_only=False)
            state = state.get("module", state) if isinstance(state, dict) and "module" in state else state
            model.load_state_dict(state, strict=True)
        return model, args
