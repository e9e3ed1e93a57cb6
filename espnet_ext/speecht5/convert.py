"""Convert fairseq SpeechT5 / ArTST / STTATTS checkpoints and Hugging Face SpeechT5 dirs to `SpeechT5` names.

Several sources merge: every parameter comes from the FIRST source that has it, so the backbone
(encoder, decoder) comes from the first source and task-specific pre-/post-nets from whichever
source has them. Everything not loaded is listed in `report` with the reason. The name maps are
those of transformers' conversion script (fairseq -> HF), composed with our own names, which keep
fairseq's where fairseq has readable ones (see ANCHORS.md "SpeechT5 base architecture").
"""
from __future__ import annotations

import argparse
import ast
import json
import logging
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from espnet_ext.speecht5.config import SpeechT5Config

logger = logging.getLogger(__name__)

TEXT_EMBED = "<text embedding>"  # one tied tensor, written under the three names below
TEXT_EMBED_KEYS = (
    "text_encoder_prenet.embed_tokens.weight",
    "text_decoder_prenet.embed_tokens.weight",
    "text_decoder_postnet.output_projection.weight",
)
CTC = "ctc:"  # prefix of targets that go to ctc_state

_L = r"(\d+)"
_LINEAR = r"(weight|bias)"

# (pattern on the source name, our name with \1.. groups | TEXT_EMBED | CTC... | None = dropped, reason)
FAIRSEQ_RULES: list[tuple[str, str | None, str]] = [
    (rf"speech_encoder_prenet\.feature_extractor\.conv_layers\.{_L}\.0\.{_LINEAR}",
     r"speech_encoder_prenet.feature_extractor.conv_layers.\1.conv.\2", ""),
    (rf"speech_encoder_prenet\.feature_extractor\.conv_layers\.0\.2\.{_LINEAR}",
     r"speech_encoder_prenet.feature_extractor.conv_layers.0.norm.\1", ""),
    (rf"speech_encoder_prenet\.(layer_norm|post_extract_proj)\.{_LINEAR}", r"speech_encoder_prenet.\1.\2", ""),
    (r"speech_encoder_prenet\.mask_emb", "speech_encoder_prenet.mask_emb", ""),
    (r"speech_encoder_prenet\.pos_conv\.0\.(weight_g|parametrizations\.weight\.original0)",
     "speech_encoder_prenet.pos_conv.weight_g", ""),
    (r"speech_encoder_prenet\.pos_conv\.0\.(weight_v|parametrizations\.weight\.original1)",
     "speech_encoder_prenet.pos_conv.weight_v", ""),
    (r"speech_encoder_prenet\.pos_conv\.0\.bias", "speech_encoder_prenet.pos_conv.bias", ""),
    (r"(speech_encoder_prenet|text_decoder_prenet)\.embed_positions\._float_tensor", None,
     "fairseq placeholder, sinusoidal positions are computed"),
    (r"text_encoder_prenet\.encoder_prenet\.0\.weight", TEXT_EMBED, ""),
    (r"text_encoder_prenet\.encoder_prenet\.1\.alpha", "text_encoder_prenet.encode_positions.alpha", ""),
    (rf"(encoder|decoder)\.layers\.{_L}\.((self_attn|encoder_attn)\.(q|k|v|out)_proj)\.{_LINEAR}",
     r"\1.layers.\2.\3.\6", ""),
    (rf"(encoder|decoder)\.layers\.{_L}\.(self_attn_layer_norm|encoder_attn_layer_norm|final_layer_norm|fc1|fc2)"
     rf"\.{_LINEAR}", r"\1.layers.\2.\3.\4", ""),
    (rf"(encoder|decoder)\.layers\.{_L}\.norm_k\.{_LINEAR}", None,
     "norm_k is only used with pre-LN layers (layer_norm_first), not in SpeechT5 base"),
    (rf"encoder\.layer_norm\.{_LINEAR}", r"encoder.layer_norm.\1", ""),
    (r"encoder\.pos_emb\.pe_k\.weight", "encoder.pos_emb.pe_k.weight", ""),
    (r"decoder\.pos_emb\.pe_k\.weight", None, "the decoder's relative position table is unused in SpeechT5"),
    (r"(encoder|decoder)\.version", None, "fairseq bookkeeping"),
    (rf"encoder\.proj\.{_LINEAR}", CTC + r"ctc_lo.\1", ""),
    (r"text_decoder_prenet\.embed_tokens\.weight", TEXT_EMBED, ""),
    (r"text_decoder_postnet\.output_projection\.weight", TEXT_EMBED, ""),
    (rf"speech_decoder_prenet\.decoder_prenet\.0\.0\.prenet\.{_L}\.0\.{_LINEAR}",
     r"speech_decoder_prenet.layers.\1.\2", ""),
    (rf"speech_decoder_prenet\.decoder_prenet\.0\.1\.{_LINEAR}", r"speech_decoder_prenet.final_layer.\1", ""),
    (r"speech_decoder_prenet\.decoder_prenet\.1\.alpha", "speech_decoder_prenet.encode_positions.alpha", ""),
    (rf"speech_decoder_prenet\.spkembs_layer\.0\.{_LINEAR}", r"speech_decoder_prenet.speaker_embeds_layer.\1", ""),
    (rf"speech_decoder_postnet\.(feat_out|prob_out)\.{_LINEAR}", r"speech_decoder_postnet.\1.\2", ""),
    (rf"speech_decoder_postnet\.postnet\.postnet\.{_L}\.0\.weight",
     r"speech_decoder_postnet.postnet.layers.\1.conv.weight", ""),
    (rf"speech_decoder_postnet\.postnet\.postnet\.{_L}\.1\.(weight|bias|running_mean|running_var|num_batches_tracked)",
     r"speech_decoder_postnet.postnet.layers.\1.batch_norm.\2", ""),
    (r"projection_task\..*", None, "STTATTS task fusion, not part of the backbone (kept in extra_state)"),
    (r"speech_encoder_postnet\..*", None, "pre-training head (HuBERT-style speech encoder post-net)"),
    (r"speaker_decoder_postnet\..*", None, "speaker identification head"),
    (r"quantizer\..*", None, "pre-training vector quantizer"),
]

_ENC = r"speecht5\.encoder\.wrapped_encoder"
_DEC = r"speecht5\.decoder\.wrapped_decoder"
HF_RULES: list[tuple[str, str | None, str]] = [
    (rf"speecht5\.encoder\.prenet\.feature_encoder\.conv_layers\.{_L}\.conv\.{_LINEAR}",
     r"speech_encoder_prenet.feature_extractor.conv_layers.\1.conv.\2", ""),
    (rf"speecht5\.encoder\.prenet\.feature_encoder\.conv_layers\.0\.layer_norm\.{_LINEAR}",
     r"speech_encoder_prenet.feature_extractor.conv_layers.0.norm.\1", ""),
    (rf"speecht5\.encoder\.prenet\.feature_projection\.layer_norm\.{_LINEAR}",
     r"speech_encoder_prenet.layer_norm.\1", ""),
    (rf"speecht5\.encoder\.prenet\.feature_projection\.projection\.{_LINEAR}",
     r"speech_encoder_prenet.post_extract_proj.\1", ""),
    (r"speecht5\.encoder\.prenet\.masked_spec_embed", "speech_encoder_prenet.mask_emb", ""),
    (r"speecht5\.encoder\.prenet\.pos_conv_embed\.conv\.(weight_g|parametrizations\.weight\.original0)",
     "speech_encoder_prenet.pos_conv.weight_g", ""),
    (r"speecht5\.encoder\.prenet\.pos_conv_embed\.conv\.(weight_v|parametrizations\.weight\.original1)",
     "speech_encoder_prenet.pos_conv.weight_v", ""),
    (r"speecht5\.encoder\.prenet\.pos_conv_embed\.conv\.bias", "speech_encoder_prenet.pos_conv.bias", ""),
    (r"speecht5\.encoder\.prenet\.embed_tokens\.weight", TEXT_EMBED, ""),
    (r"speecht5\.encoder\.prenet\.encode_positions\.alpha", "text_encoder_prenet.encode_positions.alpha", ""),
    (rf"{_ENC}\.layers\.{_L}\.attention\.(q|k|v|out)_proj\.{_LINEAR}", r"encoder.layers.\1.self_attn.\2_proj.\3", ""),
    (rf"{_ENC}\.layers\.{_L}\.layer_norm\.{_LINEAR}", r"encoder.layers.\1.self_attn_layer_norm.\2", ""),
    (rf"{_ENC}\.layers\.{_L}\.final_layer_norm\.{_LINEAR}", r"encoder.layers.\1.final_layer_norm.\2", ""),
    (rf"{_ENC}\.layers\.{_L}\.feed_forward\.intermediate_dense\.{_LINEAR}", r"encoder.layers.\1.fc1.\2", ""),
    (rf"{_ENC}\.layers\.{_L}\.feed_forward\.output_dense\.{_LINEAR}", r"encoder.layers.\1.fc2.\2", ""),
    (rf"{_ENC}\.layer_norm\.{_LINEAR}", r"encoder.layer_norm.\1", ""),
    (rf"{_ENC}\.embed_positions\.pe_k\.weight", "encoder.pos_emb.pe_k.weight", ""),
    (rf"{_DEC}\.layers\.{_L}\.((self_attn|encoder_attn)\.(q|k|v|out)_proj)\.{_LINEAR}", r"decoder.layers.\1.\2.\5", ""),
    (rf"{_DEC}\.layers\.{_L}\.(self_attn_layer_norm|encoder_attn_layer_norm|final_layer_norm)\.{_LINEAR}",
     r"decoder.layers.\1.\2.\3", ""),
    (rf"{_DEC}\.layers\.{_L}\.feed_forward\.intermediate_dense\.{_LINEAR}", r"decoder.layers.\1.fc1.\2", ""),
    (rf"{_DEC}\.layers\.{_L}\.feed_forward\.output_dense\.{_LINEAR}", r"decoder.layers.\1.fc2.\2", ""),
    (r"speecht5\.decoder\.prenet\.embed_tokens\.weight", TEXT_EMBED, ""),
    (r"text_decoder_postnet\.lm_head\.weight", TEXT_EMBED, ""),
    (rf"speecht5\.decoder\.prenet\.layers\.{_L}\.{_LINEAR}", r"speech_decoder_prenet.layers.\1.\2", ""),
    (rf"speecht5\.decoder\.prenet\.(final_layer|speaker_embeds_layer)\.{_LINEAR}", r"speech_decoder_prenet.\1.\2", ""),
    (r"speecht5\.decoder\.prenet\.encode_positions\.alpha", "speech_decoder_prenet.encode_positions.alpha", ""),
    (rf"speech_decoder_postnet\.(feat_out|prob_out)\.{_LINEAR}", r"speech_decoder_postnet.\1.\2", ""),
    (rf"speech_decoder_postnet\.layers\.{_L}\.conv\.weight",
     r"speech_decoder_postnet.postnet.layers.\1.conv.weight", ""),
    (rf"speech_decoder_postnet\.layers\.{_L}\.batch_norm\.(weight|bias|running_mean|running_var|num_batches_tracked)",
     r"speech_decoder_postnet.postnet.layers.\1.batch_norm.\2", ""),
    (r".*\.(encode_positions\.pe|pos_sinusoidal_embed\.weights|embed_positions\.weights)", None,
     "positional table (older transformers saved it), computed here"),
]

# HF config.json field -> SpeechT5Config field (architecture only: regularisation belongs to the training config)
HF_CONFIG_FIELDS = {
    "vocab_size": "vocab_size", "hidden_size": "d_model", "encoder_layers": "encoder_layers",
    "decoder_layers": "decoder_layers", "encoder_attention_heads": "attention_heads",
    "encoder_ffn_dim": "ffn_dim", "layer_norm_eps": "layer_norm_eps",
    "encoder_max_relative_position": "max_relative_position", "conv_dim": "conv_dim",
    "conv_kernel": "conv_kernel", "conv_stride": "conv_stride", "conv_bias": "conv_bias",
    "num_conv_pos_embeddings": "pos_conv_kernel", "num_conv_pos_embedding_groups": "pos_conv_groups",
    "max_text_positions": "max_text_positions", "max_speech_positions": "max_speech_positions",
    "num_mel_bins": "num_mel_bins", "reduction_factor": "reduction_factor",
    "speech_decoder_prenet_units": "speech_decoder_prenet_units",
    "speech_decoder_prenet_layers": "speech_decoder_prenet_layers", "speaker_embedding_dim": "spk_embed_dim",
    "speech_decoder_postnet_layers": "postnet_layers", "speech_decoder_postnet_units": "postnet_units",
    "speech_decoder_postnet_kernel": "postnet_kernel", "pad_token_id": "pad_id", "bos_token_id": "bos_id",
    "eos_token_id": "eos_id",
}
# fairseq args/cfg field -> SpeechT5Config field
FAIRSEQ_CONFIG_FIELDS = {
    "encoder_attention_heads": "attention_heads", "layer_norm_eps": "layer_norm_eps",
    "encoder_max_relative_position": "max_relative_position", "conv_pos": "pos_conv_kernel",
    "conv_pos_groups": "pos_conv_groups", "max_text_positions": "max_text_positions",
    "max_speech_positions": "max_speech_positions", "reduction_factor": "reduction_factor",
    "spk_embed_dim": "spk_embed_dim", "conv_bias": "conv_bias",
}


@dataclass
class ConvertedCheckpoint:
    """Result of `load_speecht5_checkpoints`.

    config: SpeechT5Config kwargs (architecture, ids and padding_mask_mode) of the merged weights.
    backbone_state: `SpeechT5` state-dict names -> tensors (the tied embedding under all 3 names).
    ctc_state: `ctc_lo.weight/bias` from fairseq `encoder.proj` (empty if no source has it).
    report: one line per source name not loaded, with the reason.
    missing: `SpeechT5` state names no source provided (they keep their initialisation).
    extra_state: source tensors outside the backbone (e.g. STTATTS `projection_task.*`), by source name.
    origin: our name (`ctc.ctc_lo.*` for the CTC head) -> the source path it came from.
    """

    config: dict
    backbone_state: dict[str, torch.Tensor]
    ctc_state: dict[str, torch.Tensor]
    report: list[str]
    missing: list[str] = field(default_factory=list)
    extra_state: dict[str, torch.Tensor] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)


@dataclass
class _Source:
    path: str
    kind: str  # "fairseq" | "hf"
    state: dict[str, torch.Tensor]
    hints: dict  # SpeechT5Config kwargs read from the source's own config


# ------------------------------------------------------------------------------------------ reading
def _safe_eval_layers(text: str) -> list:
    """Evaluate fairseq's `conv_feature_layers` string ("[(512,10,5)] + [(512,3,2)] * 4 + ...") safely."""

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [ev(e) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            left, right = ev(node.left), ev(node.right)
            return left + right if isinstance(node.op, ast.Add) else left * right
        raise ValueError(f"unsupported conv_feature_layers expression: {text!r}")

    return ev(ast.parse(text, mode="eval"))


def _fairseq_hints(ckpt: dict) -> dict:
    args = ckpt.get("args")
    model_cfg = vars(args) if isinstance(args, argparse.Namespace) else dict(args or {})
    cfg = ckpt.get("cfg") or {}
    if hasattr(cfg, "get") and cfg.get("model") is not None:  # a dict, or OmegaConf's DictConfig
        model = cfg["model"]
        model_cfg.update(vars(model) if isinstance(model, argparse.Namespace) else dict(model))
    hints = {
        ours: model_cfg[theirs] for theirs, ours in FAIRSEQ_CONFIG_FIELDS.items() if model_cfg.get(theirs) is not None
    }
    if model_cfg.get("conv_feature_layers"):
        layers = _safe_eval_layers(model_cfg["conv_feature_layers"])
        hints["conv_dim"] = [c for c, _, _ in layers]
        hints["conv_kernel"] = [k for _, k, _ in layers]
        hints["conv_stride"] = [s for _, _, s in layers]
    if model_cfg.get("extractor_mode", "default") != "default":
        raise ValueError(f"extractor_mode={model_cfg['extractor_mode']!r} is not SpeechT5's (GroupNorm) extractor")
    return hints


def _hf_hints(config: dict) -> dict:
    unsupported = {
        "feat_extract_norm": "group", "feat_extract_activation": "gelu", "hidden_act": "gelu", "scale_embedding": False,
    }
    for key, expected in unsupported.items():
        if config.get(key, expected) != expected:
            raise ValueError(f"HF config {key}={config[key]!r} is not supported (SpeechT5 base uses {expected!r})")
    for enc, dec in (("encoder_attention_heads", "decoder_attention_heads"), ("encoder_ffn_dim", "decoder_ffn_dim")):
        if enc in config and dec in config and config[enc] != config[dec]:
            raise ValueError(f"HF config has {enc}={config[enc]} != {dec}={config[dec]}; the backbone shares one value")
    return {ours: config[theirs] for theirs, ours in HF_CONFIG_FIELDS.items() if config.get(theirs) is not None}


def _load_hf_dir(path: Path) -> _Source:
    config = json.loads((path / "config.json").read_text())
    state: dict[str, torch.Tensor] = {}
    if (path / "model.safetensors.index.json").exists() or (path / "model.safetensors").exists():
        from safetensors.torch import load_file

        index = path / "model.safetensors.index.json"
        if index.exists():  # sharded
            files = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        else:
            files = ["model.safetensors"]
        for name in files:
            state.update(load_file(str(path / name)))
    elif (path / "pytorch_model.bin").exists():
        state = torch.load(path / "pytorch_model.bin", map_location="cpu", weights_only=True)
    else:
        raise FileNotFoundError(f"{path}: no model.safetensors or pytorch_model.bin")
    return _Source(str(path), "hf", state, _hf_hints(config))


def _load_fairseq(path: Path) -> tuple[_Source, list[str]]:
    notes = []
    try:  # fairseq stores its options as an argparse.Namespace: allow that one class, nothing else
        with torch.serialization.safe_globals([argparse.Namespace]):
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # e.g. numpy scalars in fairseq's extra_state: the checkpoint must be trusted to unpickle it
        logger.warning("%s: weights-only loading failed (%s); unpickling it in full", path, err)
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        notes.append(f"{path}: loaded with full unpickling (it holds objects beyond tensors and options)")
    if "model" not in ckpt:
        raise ValueError(f"{path}: not a fairseq checkpoint (no 'model' entry)")
    return _Source(str(path), "fairseq", ckpt["model"], _fairseq_hints(ckpt)), notes


def _read_source(path: str) -> tuple[_Source, list[str]]:
    p = Path(path)
    if p.is_dir():
        return _load_hf_dir(p), []
    if p.is_file():
        return _load_fairseq(p)
    raise FileNotFoundError(path)


# ------------------------------------------------------------------------------------------ mapping
def _map_source(src: _Source) -> tuple[dict, list[str], dict]:
    """Source names -> {our name: (tensor, source name)}, report lines, extra tensors."""
    rules = FAIRSEQ_RULES if src.kind == "fairseq" else HF_RULES
    compiled = [(re.compile(p + r"\Z"), target, reason) for p, target, reason in rules]
    mapped: dict[str, tuple[torch.Tensor, str]] = {}
    embeds: list[tuple[str, torch.Tensor]] = []
    report, extra = [], {}
    for name, tensor in src.state.items():
        for pattern, target, reason in compiled:
            m = pattern.match(name)
            if m is None:
                continue
            if target is None:
                report.append(f"{src.path}: {name}: not loaded: {reason}")
                if name.startswith("projection_task."):
                    extra[name] = tensor
            elif target == TEXT_EMBED:
                embeds.append((name, tensor))
            else:
                mapped[m.expand(target)] = (tensor, name)
            break
        else:
            report.append(f"{src.path}: {name}: not loaded: no counterpart in the SpeechT5 backbone")
            extra[name] = tensor
    if embeds:
        # the backbone ties these; a source that did not tie them gives several matrices
        chosen_name, chosen = embeds[0]
        mapped[TEXT_EMBED] = (chosen, chosen_name)
        for name, tensor in embeds[1:]:
            if tensor.shape != chosen.shape or not torch.equal(tensor, chosen):
                report.append(
                    f"{src.path}: {name}: not loaded: differs from {chosen_name}, and SpeechT5 ties the text embeddings"
                )
    return mapped, report, extra


def _count(state: dict, prefix: str) -> int:
    pattern = re.compile(re.escape(prefix) + r"\.(\d+)\.")
    found = {int(m.group(1)) for k in state if (m := pattern.match(k))}
    return max(found) + 1 if found else 0


def _infer_config(state: dict[str, torch.Tensor], hints: dict) -> dict:
    """SpeechT5Config kwargs: the sources' own configs, overridden by what the tensor shapes say."""
    cfg = dict(hints)
    emb = state.get(TEXT_EMBED)
    if emb is not None:
        cfg["vocab_size"], cfg["d_model"] = emb.shape
    if "encoder.layer_norm.weight" in state:
        cfg["d_model"] = state["encoder.layer_norm.weight"].shape[0]
    for side in ("encoder", "decoder"):
        n = _count(state, f"{side}.layers")
        if n:
            cfg[f"{side}_layers"] = n
    for key in ("encoder.layers.0.fc1.weight", "decoder.layers.0.fc1.weight"):
        if key in state:
            cfg["ffn_dim"] = state[key].shape[0]
            break
    if "encoder.pos_emb.pe_k.weight" in state:
        rows, head_dim = state["encoder.pos_emb.pe_k.weight"].shape
        cfg["max_relative_position"] = rows // 2
        cfg["attention_heads"] = cfg["d_model"] // head_dim
    prefix = "speech_encoder_prenet.feature_extractor.conv_layers"
    n_conv = _count(state, prefix)
    if n_conv:
        weights = [state[f"{prefix}.{i}.conv.weight"] for i in range(n_conv)]
        cfg["conv_dim"] = [w.shape[0] for w in weights]
        cfg["conv_kernel"] = [w.shape[2] for w in weights]
        cfg["conv_bias"] = f"{prefix}.0.conv.bias" in state
        strides = cfg.get("conv_stride")
        if strides is None and n_conv == len(SpeechT5Config.conv_stride):
            strides = SpeechT5Config.conv_stride  # SpeechT5 base; strides are not visible in weights
        if strides is None or len(strides) != n_conv:
            raise ValueError(f"conv strides unknown for a {n_conv}-layer feature extractor (give them in the config)")
        cfg["conv_stride"] = list(strides)
    if "speech_encoder_prenet.pos_conv.weight_v" in state:
        out_ch, in_per_group, kernel = state["speech_encoder_prenet.pos_conv.weight_v"].shape
        cfg["pos_conv_kernel"], cfg["pos_conv_groups"] = kernel, out_ch // in_per_group
    n_pre = _count(state, "speech_decoder_prenet.layers")
    if n_pre:
        cfg["speech_decoder_prenet_layers"] = n_pre
        first = state["speech_decoder_prenet.layers.0.weight"]
        cfg["speech_decoder_prenet_units"], cfg["num_mel_bins"] = first.shape
    if "speech_decoder_prenet.speaker_embeds_layer.weight" in state:
        out_dim, in_dim = state["speech_decoder_prenet.speaker_embeds_layer.weight"].shape
        cfg["spk_embed_dim"] = in_dim - out_dim
    if "speech_decoder_postnet.prob_out.weight" in state:
        cfg["reduction_factor"] = state["speech_decoder_postnet.prob_out.weight"].shape[0]
        cfg["num_mel_bins"] = state["speech_decoder_postnet.feat_out.weight"].shape[0] // cfg["reduction_factor"]
    n_post = _count(state, "speech_decoder_postnet.postnet.layers")
    if n_post:
        first = state["speech_decoder_postnet.postnet.layers.0.conv.weight"]
        cfg["postnet_layers"], cfg["postnet_units"], cfg["postnet_kernel"] = n_post, first.shape[0], first.shape[2]
    for key in ("conv_dim", "conv_kernel", "conv_stride"):
        if key in cfg:
            cfg[key] = [int(v) for v in cfg[key]]
    return {k: (int(v) if isinstance(v, torch.Size) else v) for k, v in cfg.items()}


def _expected_shapes(config: dict) -> dict[str, torch.Size]:
    """State-dict shapes of SpeechT5(config), built on the meta device (no memory, no init cost)."""
    from espnet_ext.speecht5.model import SpeechT5

    with torch.device("meta"):
        model = SpeechT5(SpeechT5Config.from_dict(config))
    return {k: v.shape for k, v in model.state_dict().items()}


# ------------------------------------------------------------------------------------------ API
def load_speecht5_checkpoints(paths: list[str], config: dict | None = None) -> ConvertedCheckpoint:
    """Read, rename and merge SpeechT5 checkpoints into `SpeechT5` state-dict names.

    Args:
        paths: fairseq `.pt` files (dict with "model", maybe "cfg"/"args") and/or Hugging Face
            dirs (`config.json` + `model.safetensors` or `pytorch_model.bin`). Each parameter is
            taken from the first source that has it.
        config: SpeechT5Config kwargs to check shapes against (e.g. from a training YAML);
            default: inferred from the weights and the sources' configs.
    Raises:
        ValueError naming the parameter when a tensor's shape does not fit the model.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    merged: dict[str, torch.Tensor] = {}
    origin: dict[str, str] = {}
    report: list[str] = []
    extra: dict[str, torch.Tensor] = {}
    hints: dict = {}
    prenet_kind = None
    source_names: dict[str, str] = {}
    for path in paths:
        src, notes = _read_source(str(path))
        mapped, src_report, src_extra = _map_source(src)
        report += notes + src_report
        for name, tensor in src_extra.items():
            extra.setdefault(name, tensor)
        for key, value in src.hints.items():
            hints.setdefault(key, value)
        for key, (tensor, name) in mapped.items():
            if key in merged:
                report.append(f"{src.path}: {name}: not loaded: {key} already taken from {origin[key]}")
                continue
            merged[key], origin[key], source_names[key] = tensor, src.path, name
            if key.startswith("speech_encoder_prenet.") and prenet_kind is None:
                prenet_kind = src.kind

    inferred = _infer_config(merged, hints)
    # the frame padding mask follows the implementation the speech encoder pre-net comes from
    inferred["padding_mask_mode"] = "conv_lengths" if prenet_kind == "hf" else "reshape_all"
    final_config = dict(config) if config is not None else inferred
    cfg = SpeechT5Config.from_dict(final_config)  # validates the field names
    shapes = _expected_shapes(final_config)

    backbone, ctc = {}, {}
    for key, tensor in merged.items():
        if key.startswith(CTC):
            name = key[len(CTC):]
            expected = (cfg.vocab_size, cfg.d_model) if name.endswith("weight") else (cfg.vocab_size,)
            if tuple(tensor.shape) != expected:
                raise ValueError(
                    f"shape mismatch for ctc.{name} (from {source_names[key]} in {origin[key]}): "
                    f"checkpoint {tuple(tensor.shape)} vs model {expected}"
                )
            ctc[name] = tensor
            origin[f"ctc.{name}"] = origin.pop(key)
            continue
        targets = TEXT_EMBED_KEYS if key == TEXT_EMBED else (key,)
        for target in targets:
            if target not in shapes:
                raise ValueError(f"{origin[key]}: {source_names[key]} -> {target}: not a SpeechT5 parameter")
            if tuple(tensor.shape) != tuple(shapes[target]):
                raise ValueError(
                    f"shape mismatch for {target} (from {source_names[key]} in {origin[key]}): "
                    f"checkpoint {tuple(tensor.shape)} vs model {tuple(shapes[target])}"
                )
            backbone[target] = tensor
            origin[target] = origin[key]
    origin.pop(TEXT_EMBED, None)
    missing = sorted(k for k in shapes if k not in backbone)
    return ConvertedCheckpoint(final_config, backbone, ctc, report, missing, extra, origin)
