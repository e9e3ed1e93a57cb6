"""STTATTSTask: the ESPnet task of the multi-task SpeechT5 model (ASR + TTS + VC in one model).

    python -m espnet_ext.bin.sttatts_train --config conf/sttatts_mini.yaml \
        --token_list data/token_list/char/tokens.txt --output_dir exp/sttatts \
        --train_data_path_and_name_and_type dump/raw/train/wav.scp,speech,sound \
        --train_data_path_and_name_and_type dump/raw/train/text,text,text \
        --train_data_path_and_name_and_type dump/raw/train/utt2category,category,text \
        --train_data_path_and_name_and_type dump/raw/train/dvector.scp,spembs,kaldi_ark \
        --train_data_path_and_name_and_type dump/raw/train/tgt_wav.scp,speech_tgt,optional_sound \
        --train_shape_file exp/stats/train/speech_shape ...

Data names (see espnet_ext.sttatts.data): ``speech`` and ``text`` are required for training;
``category``, ``spembs``, ``speech_tgt`` are optional. At inference nothing is required (ASR reads
``speech``; TTS ``text`` + ``spembs``; VC ``speech`` + ``spembs``).
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Callable, Collection, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from espnet2.asr.ctc import CTC
from espnet2.tasks.abs_task import AbsTask
from espnet2.train.class_choices import ClassChoices
from espnet2.tts.feats_extract.log_mel_fbank import LogMelFbank
from espnet2.utils.get_default_kwargs import get_default_kwargs
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import str2bool, str_or_none
from typeguard import typechecked

from espnet_ext.speecht5 import SpeechT5, SpeechT5Config
from espnet_ext.sttatts.data import (
    STTATTSCollateFn,
    STTATTSPreprocessor,
    check_data_keys,
    read_keys,
    register_optional_sound,
)
from espnet_ext.sttatts.mel import SpeechT5LogMel
from espnet_ext.sttatts.model import ESPnetSTTATTSModel, special_ids
from espnet_ext.sttatts.task_fusion import TASKS, TaskFusion
from espnet_ext.train import AmpTrainer

register_optional_sound()

feats_extract_choices = ClassChoices(
    name="feats_extract",
    classes=dict(speecht5_fbank=SpeechT5LogMel, fbank=LogMelFbank),
    default="speecht5_fbank",
)
task_fusion_choices = ClassChoices(
    name="task_fusion",
    classes=dict(concat_linear=TaskFusion),
    default="concat_linear",
    optional=True,
)


# Set by the task, not by the user: the model counts updates with ESPnet's --accum_grad; the loss
# needs CTC's batch mean (reduce) to recover the per-utterance sum.
MODEL_FROM_ARGS = ("accum_grad",)
CTC_FIXED = ("reduce",)


def _without(conf: dict, keys) -> dict:
    return {k: v for k, v in conf.items() if k not in keys}


def _check_not_set(conf: dict, keys, section: str) -> None:
    given = [k for k in keys if k in (conf or {})]
    if given:
        raise ValueError(f"{section} must not set {given}: the task sets them")


def read_token_list(token_list: Union[str, Path, List[str], Tuple[str, ...]]) -> List[str]:
    """A token list file (one token per line) or an in-memory list -> list of tokens."""
    if isinstance(token_list, (str, Path)):
        with open(token_list, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f if line.rstrip("\n")]
    return list(token_list)


def backbone_config(backbone_conf: dict, token_list: List[str]) -> SpeechT5Config:
    """SpeechT5Config from the YAML section; vocabulary size and special ids come from the tokens."""
    conf = dict(backbone_conf or {})
    specials = special_ids(token_list)
    derived = dict(vocab_size=len(token_list), pad_id=specials["pad"], bos_id=specials["bos"], eos_id=specials["eos"])
    for key, value in derived.items():
        if key in conf and conf[key] is not None and int(conf[key]) != value:
            raise ValueError(f"backbone_conf.{key} = {conf[key]}, but the token list gives {value}")
        conf[key] = value
    return SpeechT5Config.from_dict(conf)


class STTATTSTask(AbsTask):
    num_optimizers: int = 1
    class_choices_list = [feats_extract_choices, task_fusion_choices]
    trainer = AmpTrainer  # ESPnet's Trainer; --use_amp true on CPU = bf16 autocast

    @classmethod
    def get_parser(cls) -> argparse.ArgumentParser:
        parser = super().get_parser()
        # A step whose batch holds one task leaves the other tasks' pre/post-nets without
        # gradients; DDP (multi-GPU, multi-node) then needs find_unused_parameters.
        parser.set_defaults(unused_parameters=True)
        return parser

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        group = parser.add_argument_group(description="Task related")
        required = parser.get_default("required")
        required += ["token_list"]
        group.add_argument(
            "--token_list", type=str_or_none, default=None, help="Token list file (one token per line; SpeechT5 layout)"
        )
        group.add_argument(
            "--categories",
            type=str,
            nargs="+",
            default=list(TASKS),
            help="Category table (utt2category values): asr, tts, vc, or <task>:<tag> for data-set tags",
        )
        group.add_argument(
            "--default_category", type=str, default="asr", help="Category of utterances without 'category' data"
        )
        group.add_argument(
            "--backbone_conf",
            action=NestedDictAction,
            default=SpeechT5Config().to_dict(),
            help="SpeechT5Config fields (vocab_size and special ids come from the token list)",
        )
        group.add_argument(
            "--ctc_conf",
            action=NestedDictAction,
            default=_without(get_default_kwargs(CTC), CTC_FIXED),
            help="Keyword arguments of ESPnet's CTC",
        )
        group.add_argument(
            "--model_conf",
            action=NestedDictAction,
            default=_without(get_default_kwargs(ESPnetSTTATTSModel), MODEL_FROM_ARGS),
            help="Keyword arguments of ESPnetSTTATTSModel (loss weights, guided attention, phases, y_decoder)",
        )
        group = parser.add_argument_group(description="Preprocess related")
        group.add_argument(
            "--use_preprocessor", type=str2bool, default=True, help="Tokenize text, map categories (required for training)"
        )
        for class_choices in cls.class_choices_list:
            class_choices.add_arguments(group)

    @classmethod
    @typechecked
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[
        [Collection[Tuple[str, Dict[str, np.ndarray]]]], Tuple[List[str], Dict[str, torch.Tensor]]
    ]:
        return STTATTSCollateFn()

    @classmethod
    @typechecked
    def build_preprocess_fn(
        cls, args: argparse.Namespace, train: bool
    ) -> Optional[Callable[[str, Dict[str, np.array]], Dict[str, np.ndarray]]]:
        if not args.use_preprocessor:
            return None
        return STTATTSPreprocessor(read_token_list(args.token_list), args.categories, args.default_category, train=train)

    @classmethod
    def build_sequence_iter_factory(cls, args: argparse.Namespace, iter_options, mode: str):
        """ESPnet's, after checking that every data file has every utterance of the shape file."""
        check_data_keys(iter_options.data_path_and_name_and_type, read_keys(iter_options.shape_files[0]))
        return super().build_sequence_iter_factory(args, iter_options, mode)

    @classmethod
    def build_streaming_iterator(cls, data_path_and_name_and_type, preprocess_fn, collate_fn, key_file=None, **kwargs):
        """ESPnet's (collect_stats, inference), after the same check over the key file's utterances."""
        check_data_keys(data_path_and_name_and_type, read_keys(key_file) if key_file else None)
        return super().build_streaming_iterator(
            data_path_and_name_and_type, preprocess_fn, collate_fn, key_file, **kwargs
        )

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return () if inference else ("speech", "text")

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        if inference:
            return ("speech", "text", "category", "spembs", "speech_tgt")
        return ("category", "spembs", "speech_tgt")

    @classmethod
    @typechecked
    def build_model(cls, args: argparse.Namespace) -> ESPnetSTTATTSModel:
        token_list = read_token_list(args.token_list)
        args.token_list = list(token_list)  # config.yaml keeps the tokens themselves (portable)
        cfg = backbone_config(args.backbone_conf, token_list)
        args.backbone_conf = cfg.to_dict()
        backbone = SpeechT5(cfg)
        feats_extract = feats_extract_choices.get_class(args.feats_extract)(**args.feats_extract_conf)
        if feats_extract.output_size() != cfg.num_mel_bins:
            raise ValueError(f"feats_extract gives {feats_extract.output_size()} mels, the backbone expects {cfg.num_mel_bins}")
        task_fusion = None
        if args.task_fusion is not None:
            task_fusion = task_fusion_choices.get_class(args.task_fusion)(d_model=cfg.d_model, **args.task_fusion_conf)
        _check_not_set(args.ctc_conf, CTC_FIXED, "ctc_conf")
        _check_not_set(args.model_conf, MODEL_FROM_ARGS, "model_conf")
        ctc = CTC(odim=cfg.vocab_size, encoder_output_size=cfg.d_model, reduce=True, **args.ctc_conf)
        model = ESPnetSTTATTSModel(
            backbone,
            feats_extract,
            task_fusion,
            ctc,
            token_list,
            args.categories,
            accum_grad=getattr(args, "accum_grad", 1),
            **args.model_conf,
        )
        logging.info(f"STTATTS: vocabulary {cfg.vocab_size}, d_model {cfg.d_model}, categories {args.categories}")
        return model

    @classmethod
    @typechecked
    def build_model_from_file(
        cls,
        config_file: Optional[Union[Path, str]] = None,
        model_file: Optional[Union[Path, str]] = None,
        device: str = "cpu",
    ) -> Tuple[ESPnetSTTATTSModel, argparse.Namespace]:
        """ESPnet's loader, but strict: a missing or unexpected parameter is an error, not a silent
        random init (ESPnet's own loads with strict=False)."""
        model, args = super().build_model_from_file(config_file, None, device)
        if model_file is not None:
            state = torch.load(model_file, map_location=device, weights_only=False)
            state = state.get("module", state) if isinstance(state, dict) and "module" in state else state
            model.load_state_dict(state, strict=True)
        return model, args
