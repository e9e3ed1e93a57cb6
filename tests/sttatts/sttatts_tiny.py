"""Helpers of the STTATTS tests: a tiny model built through the task, mixed-task batches."""
import numpy as np
import torch

from espnet_ext.bin.make_token_list import HEAD, TAIL
from espnet_ext.tasks.sttatts import STTATTSTask

TOKENS = [*HEAD, *"▁abcdefghijklmnopqrstuvwxyz'", *TAIL]
SPK_DIM = 8
TINY_BACKBONE = dict(
    d_model=32,
    encoder_layers=2,
    decoder_layers=2,
    attention_heads=2,
    ffn_dim=64,
    conv_dim=[16, 16, 16],
    conv_kernel=[10, 8, 8],
    conv_stride=[5, 8, 8],
    pos_conv_kernel=8,
    pos_conv_groups=2,
    max_relative_position=16,
    speech_decoder_prenet_units=16,
    spk_embed_dim=SPK_DIM,
    postnet_layers=2,
    postnet_units=16,
)


def tiny_args(backbone=None, model_conf=None, task_fusion_conf=None, task_fusion="concat_linear", categories=None):
    args = STTATTSTask.get_parser().parse_args(["--token_list", "unused", "--output_dir", "unused"])
    args.token_list = list(TOKENS)
    args.backbone_conf = {**TINY_BACKBONE, **(backbone or {})}
    args.model_conf = dict(model_conf or {})
    args.task_fusion = task_fusion
    args.task_fusion_conf = {**args.task_fusion_conf, **(task_fusion_conf or {})}
    if categories is not None:
        args.categories = list(categories)
    return args


def build_tiny(seed=0, **kwargs):
    """A tiny model in eval mode with deterministic speech pre-net (dropout off at inference)."""
    torch.manual_seed(seed)
    args = tiny_args(**kwargs)
    model = STTATTSTask.build_model(args)
    model.backbone.speech_decoder_prenet.dropout_at_inference = False
    return model.eval(), args


UTTERANCES = [  # (category, text, seconds of source speech, seconds of VC target)
    ("asr", "hello world", 1.0, 0.0),
    ("tts", "good day", 0.8, 0.0),
    ("vc", "abc", 0.9, 0.7),
    ("asr", "xyz", 0.6, 0.0),
    ("tts", "hi", 0.5, 0.0),
]


def make_items(args, utterances=UTTERANCES, seed=0, train=True):
    pre = STTATTSTask.build_preprocess_fn(args, train=train)
    items = []
    for i, (cat, text, sec, tgt_sec) in enumerate(utterances):
        rng = np.random.default_rng([seed, *map(ord, text)])  # the same signals wherever it sits in a batch
        d = {
            "speech": (0.1 * rng.standard_normal(int(16000 * sec))).astype(np.float32),
            "text": text,
            "category": cat,
            "spembs": rng.standard_normal(SPK_DIM).astype(np.float32),
        }
        if tgt_sec:
            d["speech_tgt"] = (0.1 * rng.standard_normal(int(16000 * tgt_sec))).astype(np.float32)
        items.append((f"utt{i}", pre(f"utt{i}", d)))
    return items


def make_batch(args, utterances=UTTERANCES, seed=0):
    _, batch = STTATTSTask.build_collate_fn(args, True)(make_items(args, utterances, seed))
    return batch
