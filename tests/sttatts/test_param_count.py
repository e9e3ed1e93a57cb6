"""conf/sttatts_base.yaml builds the paper's 155M-parameter model (meta device: no memory, no init)."""
from pathlib import Path

import pytest
import torch

from espnet_ext.bin.make_token_list import HEAD, TAIL
from espnet_ext.tasks.sttatts import STTATTSTask

BASE = Path(__file__).parents[2] / "conf" / "sttatts_base.yaml"
ENGLISH_VOCAB = 81  # transformers' English SpeechT5 vocabulary (the paper reports 84)


def _count(**overrides):
    args = STTATTSTask.get_parser().parse_args(["--config", str(BASE), "--token_list", "x", "--output_dir", "x"])
    args.token_list = [*HEAD, *[f"c{i}" for i in range(ENGLISH_VOCAB - len(HEAD) - len(TAIL))], *TAIL]
    for key, value in overrides.items():
        setattr(args, key, value)
    with torch.device("meta"):
        model = STTATTSTask.build_model(args)
    per_module = {}
    for name, p in model.named_parameters():  # the tied text embedding counts once
        key = ".".join(name.split(".")[:2]) if name.startswith("backbone.") else name.split(".")[0]
        per_module[key] = per_module.get(key, 0) + p.numel()
    return per_module


def test_base_config_has_the_papers_parameter_count():
    per_module = _count()
    total = sum(per_module.values())
    assert 153e6 <= total <= 157e6, per_module
    assert per_module["task_fusion"] == (768 + 128) * 768 + 768  # the fusion adds 0.69M
    assert per_module["ctc"] == 768 * ENGLISH_VOCAB + ENGLISH_VOCAB


def test_y_decoder_adds_a_second_decoder():
    base = sum(_count().values())
    args_model_conf = STTATTSTask.get_parser().parse_args(["--config", str(BASE), "--token_list", "x"]).model_conf
    ydec = _count(task_fusion=None, model_conf={**args_model_conf, "y_decoder": True})
    assert sum(ydec.values()) - base == pytest.approx(ydec["speech_decoder"] - (768 + 128) * 768 - 768)
    assert 209e6 <= sum(ydec.values()) <= 213e6  # the paper's 211M
