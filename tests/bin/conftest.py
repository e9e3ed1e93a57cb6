"""A tiny random STTATTS model written as training writes it (config.yaml + model.pth), shared by the
inference tests; conftest is not importable under importlib mode, so it comes as a fixture."""
from types import SimpleNamespace

import pytest
import torch
from espnet2.utils.yaml_no_alias_safe_dump import yaml_no_alias_safe_dump

from espnet_ext.bin.make_token_list import HEAD, TAIL
from espnet_ext.tasks.sttatts import STTATTSTask

TOKENS = [*HEAD, *"▁abcdefghijklmnopqrstuvwxyz'", *TAIL]
TINY = dict(
    d_model=32, encoder_layers=2, decoder_layers=2, attention_heads=2, ffn_dim=64, conv_dim=[16, 16, 16],
    conv_kernel=[10, 8, 8], conv_stride=[5, 8, 8], pos_conv_kernel=8, pos_conv_groups=2, max_relative_position=16,
    speech_decoder_prenet_units=16, spk_embed_dim=8, postnet_layers=2, postnet_units=16,
)


def write_model(root, y_decoder=False):
    """root/config.yaml + root/model.pth of a tiny random model (seed 0); returns root."""
    args = STTATTSTask.get_parser().parse_args(["--token_list", "t", "--output_dir", str(root)])
    args.token_list = TOKENS
    args.backbone_conf = dict(TINY)
    if y_decoder:
        args.task_fusion, args.model_conf = None, {**args.model_conf, "y_decoder": True}
    torch.manual_seed(0)
    model = STTATTSTask.build_model(args)
    with torch.no_grad():  # a peaked CTC and a random fusion, so that both matter in decoding
        if model.task_fusion is not None:
            torch.nn.init.normal_(model.task_fusion.proj.weight, std=0.2)
        model.ctc.ctc_lo.weight.mul_(20.0)
    torch.save(model.state_dict(), root / "model.pth")
    with open(root / "config.yaml", "w") as f:
        yaml_no_alias_safe_dump(vars(args), f)
    return root


@pytest.fixture(scope="session")
def tiny_sttatts():
    """.tokens (the token list), .write(root, y_decoder=False) -> root with config.yaml + model.pth."""
    return SimpleNamespace(tokens=TOKENS, write=write_model)
