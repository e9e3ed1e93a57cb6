"""Convert SpeechT5 / ArTST / STTATTS checkpoints into an STTATTS model directory.

    python -m espnet_ext.bin.convert_speecht5 --src speecht5_asr/ [--src speecht5_tts/ ...] \
        --token_list data/token_list/char/tokens.txt --out exp/speecht5_init \
        [--config conf/sttatts_base.yaml] [--spk_embed_dim 256]

Each ``--src`` is a fairseq ``.pt`` checkpoint (SpeechT5, ArTST, STTATTS) or a Hugging Face
SpeechT5 directory (``save_pretrained`` of SpeechT5ForSpeechToText / ForTextToSpeech /
ForSpeechToSpeech). Sources merge: each parameter comes from the first source that has it (the
backbone from the first, task-specific pre-/post-nets from whichever has them).

``--out`` gets ``config.yaml`` + ``model.pth``, loadable by
``STTATTSTask.build_model_from_file`` (inference) and usable as ``--init_param
<out>/model.pth`` for training with the same ``--config``. Architecture sizes come from the
checkpoints; everything else (loss weights, dropout, task fusion, ...) from ``--config`` (default:
the task's defaults). The task-fusion projection comes from an STTATTS checkpoint's
``projection_task`` when a source has one, else from its configured initialisation (identity by
default, so the converted model computes what the checkpoint computed). Every source name that
was not loaded, and every model parameter that was not taken from a source, is printed with why.
The token list must be the checkpoint's dictionary (make_token_list --from_dict / --from_spm).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from espnet2.utils.yaml_no_alias_safe_dump import yaml_no_alias_safe_dump

from espnet_ext.speecht5 import load_speecht5_checkpoints
from espnet_ext.sttatts.model import ESPnetSTTATTSModel
from espnet_ext.tasks.sttatts import STTATTSTask, read_token_list

SPEAKER_LAYER = "speech_decoder_prenet.speaker_embeds_layer.weight"


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--src", action="append", required=True, help="fairseq .pt or Hugging Face dir (repeatable)")
    p.add_argument("--token_list", required=True, help="the checkpoint's vocabulary, one token per line")
    p.add_argument("--out", required=True, help="output directory (config.yaml, model.pth)")
    p.add_argument("--config", default=None, help="training YAML for everything but the architecture sizes")
    p.add_argument(
        "--spk_embed_dim",
        type=int,
        default=None,
        help="speaker-embedding size to use (e.g. 256 for resemblyzer d-vectors); the speaker columns "
        "of the pre-net's speaker layer are then newly initialised",
    )
    return p


def build_args(token_list: str, out: Path, config: str | None, backbone_conf: dict) -> argparse.Namespace:
    """The task's namespace as training would dump it: defaults, then --config, then the sizes."""
    argv = ["--token_list", str(token_list), "--output_dir", str(out)]
    if config:
        argv += ["--config", str(config)]
    args = STTATTSTask.get_parser().parse_args(argv)
    args.backbone_conf = {**(args.backbone_conf or {}), **backbone_conf}
    return args


def load_weights(model: ESPnetSTTATTSModel, conv, spk_embed_dim_changed: bool) -> list[str]:
    """Copy converted tensors into the model; return one line per parameter NOT taken from a source."""
    notes = []
    state = dict(conv.backbone_state)
    if spk_embed_dim_changed and SPEAKER_LAYER in state:
        ours = model.backbone.state_dict()[SPEAKER_LAYER].clone()
        d = ours.shape[0]
        ours[:, :d] = state[SPEAKER_LAYER][:, :d]  # the pre-net columns keep their weights
        state[SPEAKER_LAYER] = ours
        notes.append(f"backbone.{SPEAKER_LAYER}: speaker columns newly initialised (spk_embed_dim changed)")
    missing, unexpected = model.backbone.load_state_dict(state, strict=False)
    if unexpected:
        raise ValueError(f"converted tensors without a backbone parameter: {unexpected}")
    notes += [f"backbone.{k}: kept its initialisation (no source has it)" for k in missing]
    if conv.ctc_state:
        model.ctc.load_state_dict(conv.ctc_state)
    else:
        notes.append("ctc.ctc_lo.*: random initialisation (no source has a CTC head, encoder.proj)")
    fusion = model.task_fusion
    if fusion is not None:
        if "projection_task.weight" in conv.extra_state:
            weight, bias = conv.extra_state["projection_task.weight"], conv.extra_state["projection_task.bias"]
            if tuple(weight.shape) != tuple(fusion.proj.weight.shape):
                raise ValueError(
                    f"shape mismatch for task_fusion.proj.weight (from projection_task.weight): "
                    f"checkpoint {tuple(weight.shape)} vs model {tuple(fusion.proj.weight.shape)}"
                )
            fusion.proj.load_state_dict({"weight": weight, "bias": bias})
        else:
            notes.append(f"task_fusion.proj.*: {fusion.init} initialisation (no source has projection_task)")
        if fusion.learned_vectors:
            notes.append("task_fusion.task_vectors: fixed random unit vectors as a starting point (learned)")
    if model.speech_decoder is not None:
        model.speech_decoder.load_state_dict(model.backbone.decoder.state_dict())
        notes.append("speech_decoder.*: copied from backbone.decoder (Y-decoder)")
    return notes


def convert(srcs: list[str], token_list: str, out, config: str | None = None, spk_embed_dim: int | None = None) -> list[str]:
    """Write ``out/config.yaml`` and ``out/model.pth``; return the report lines."""
    out = Path(out)
    conv = load_speecht5_checkpoints(list(srcs))
    tokens = read_token_list(token_list)
    if len(tokens) != conv.config.get("vocab_size", len(tokens)):
        raise ValueError(
            f"{token_list} has {len(tokens)} tokens, the checkpoint's vocabulary has {conv.config['vocab_size']}: "
            "use the checkpoint's dictionary (make_token_list --from_dict / --from_spm)"
        )
    sizes = dict(conv.config)
    changed = spk_embed_dim is not None and spk_embed_dim != sizes.get("spk_embed_dim", spk_embed_dim)
    if spk_embed_dim is not None:
        sizes["spk_embed_dim"] = spk_embed_dim
    args = build_args(token_list, out, config, sizes)
    model = STTATTSTask.build_model(args)
    notes = load_weights(model, conv, changed)
    # projection_task is loaded above when a model has task fusion: drop it from the "not loaded" list
    used_extra = model.task_fusion is not None and "projection_task.weight" in conv.extra_state
    report = [r for r in conv.report if not (used_extra and ": projection_task." in r)]
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "model.pth")
    with open(out / "config.yaml", "w", encoding="utf-8") as f:
        yaml_no_alias_safe_dump(vars(args), f, indent=4, sort_keys=False)
    return report + [f"not from a source: {line}" for line in notes]


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    lines = convert(args.src, args.token_list, args.out, args.config, args.spk_embed_dim)
    for line in lines:
        print(line)
    n = sum(p.numel() for p in torch.load(Path(args.out) / "model.pth", weights_only=True).values())
    print(f"wrote {Path(args.out) / 'config.yaml'} and {Path(args.out) / 'model.pth'} ({n / 1e6:.2f}M tensor elements)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
