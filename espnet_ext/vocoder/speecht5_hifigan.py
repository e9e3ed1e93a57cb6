"""Read a Hugging Face ``SpeechT5HifiGan`` directory (``microsoft/speecht5_hifigan``) into ours.

The directory holds ``config.json`` (model_type ``speecht5_hifigan``) and ``model.safetensors``
or ``pytorch_model.bin``. Names map as follows (K = number of residual-block kernels):

    conv_pre.*                    -> input_conv.*
    upsampler.{i}.*               -> upsample.{i}.*
    resblocks.{i*K+j}.convs1.{n}  -> mrf.{i}.blocks.{j}.dilated_convs.{n}
    resblocks.{i*K+j}.convs2.{n}  -> mrf.{i}.blocks.{j}.plain_convs.{n}
    conv_post.*                   -> output_conv.*
    mean, scale                   -> mel_mean, mel_scale

Weight-normalised weights (``weight_g``/``weight_v`` or ``parametrizations.weight.original0/1``)
are folded into plain weights first.
"""
import json
import re
from dataclasses import replace
from pathlib import Path

import torch

from espnet_ext.vocoder.features import MelConfig
from espnet_ext.vocoder.hifigan import HiFiGANConfig, HiFiGANGenerator

HF_MODEL_TYPE = "speecht5_hifigan"
_CONFIG_KEYS = (
    "upsample_initial_channel",
    "upsample_rates",
    "upsample_kernel_sizes",
    "resblock_kernel_sizes",
    "resblock_dilation_sizes",
    "leaky_relu_slope",
    "normalize_before",
)


def is_speecht5_hifigan_dir(path) -> bool:
    cfg = Path(path) / "config.json"
    return cfg.is_file() and json.loads(cfg.read_text()).get("model_type") == HF_MODEL_TYPE


def config_from_hf(hf_config: dict) -> HiFiGANConfig:
    kwargs = {k: hf_config[k] for k in _CONFIG_KEYS if k in hf_config}
    kwargs = {k: [list(x) for x in v] if k == "resblock_dilation_sizes" else v for k, v in kwargs.items()}
    kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
    return HiFiGANConfig(in_dim=hf_config.get("model_in_dim", 80), **kwargs)


def _read_state_dict(hf_dir: Path) -> dict:
    if (hf_dir / "model.safetensors").is_file():
        from safetensors.torch import load_file

        return load_file(str(hf_dir / "model.safetensors"))
    if (hf_dir / "pytorch_model.bin").is_file():
        return torch.load(hf_dir / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise FileNotFoundError(f"{hf_dir}: neither model.safetensors nor pytorch_model.bin")


def _fold_weight_norm(state: dict) -> dict:
    """Replace (g, v) pairs of weight norm by w = g * v / ||v|| (norm over all dims but 0)."""
    pairs = {
        ".weight_g": ".weight_v",
        ".parametrizations.weight.original0": ".parametrizations.weight.original1",
    }
    out = {}
    for name, tensor in state.items():
        for g_suffix, v_suffix in pairs.items():
            if name.endswith(v_suffix):
                break
            if name.endswith(g_suffix):
                prefix = name[: -len(g_suffix)]
                v = state[prefix + v_suffix]
                norm = v.norm(dim=tuple(range(1, v.dim())), keepdim=True)
                out[prefix + ".weight"] = tensor * v / norm
                break
        else:
            out[name] = tensor
    return out


def rename_hf_state_dict(state: dict, num_kernels: int) -> dict:
    """HF ``SpeechT5HifiGan`` parameter names -> ours (see the module docstring)."""
    out = {}
    for name, tensor in _fold_weight_norm(state).items():
        m = re.match(r"resblocks\.(\d+)\.convs([12])\.(\d+)\.(.+)", name)
        if m:
            block, which, n, rest = int(m[1]), m[2], m[3], m[4]
            kind = "dilated_convs" if which == "1" else "plain_convs"
            new = f"mrf.{block // num_kernels}.blocks.{block % num_kernels}.{kind}.{n}.{rest}"
        elif name in ("mean", "scale"):
            new = f"mel_{name}"
        else:
            new = (
                name.replace("conv_pre.", "input_conv.", 1)
                .replace("upsampler.", "upsample.", 1)
                .replace("conv_post.", "output_conv.", 1)
            )
        out[new] = tensor
    return out


def load_speecht5_hifigan(hf_dir) -> HiFiGANGenerator:
    """HF directory -> our generator with the same weights and statistics, in eval mode."""
    hf_dir = Path(hf_dir)
    hf_config = json.loads((hf_dir / "config.json").read_text())
    if hf_config.get("model_type") != HF_MODEL_TYPE:
        raise ValueError(f"{hf_dir}: model_type is {hf_config.get('model_type')!r}, not {HF_MODEL_TYPE!r}")
    generator = HiFiGANGenerator(config_from_hf(hf_config))
    state = rename_hf_state_dict(_read_state_dict(hf_dir), len(generator.config.resblock_kernel_sizes))
    generator.load_state_dict(state, strict=True)
    return generator.eval()


def implied_mel(hf_dir, generator: HiFiGANGenerator, requested: MelConfig) -> MelConfig:
    """The mel settings the HF vocoder fixes: its rate (config.json), hop (product of upsampling
    rates) and mel count; the rest is not recorded in an HF directory and taken from ``requested``.
    """
    fs = json.loads((Path(hf_dir) / "config.json").read_text()).get("sampling_rate", requested.fs)
    return replace(requested, fs=fs, hop_length=generator.config.hop_length, n_mels=generator.config.in_dim)
