"""int8 dynamic quantization of decoder linears for decoding (issue 18).

A decoding step streams the decoder's weights once per step (about 200 MB in fp32 at base size);
int8 weights are a quarter of that. torch's dynamic quantization stores each Linear's weight as
int8 (one scale per output row) and quantizes the activations per call (fbgemm / oneDNN int8
matrix products on x86). Inference only: the quantized modules have no gradients and their
weights are no longer parameters.
"""
from __future__ import annotations

import torch
from torch import nn

from espnet_ext.speecht5.attention import MultiheadAttention

QUANTIZE_CHOICES = ("none", "int8")


def _fused_linear(linears: list[nn.Linear]) -> nn.Linear:
    """One Linear whose output is the named projections' outputs side by side."""
    weight = torch.cat([m.weight for m in linears])
    fused = nn.Linear(weight.size(1), weight.size(0), device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        fused.weight.copy_(weight)
        fused.bias.copy_(torch.cat([m.bias for m in linears]))
    return fused


@torch.no_grad()
def quantize_int8(module: nn.Module) -> nn.Module:
    """Every nn.Linear inside `module` (in place) -> dynamically quantized int8 Linear.

    Attention layers first get their fused q/k/v and k/v projections (what inference runs, see
    MultiheadAttention.query_key_value) as Linears of their own, quantized with the rest: int8
    weights cannot be concatenated per call as the fp32 ones are. CPU only (torch's dynamic
    quantized kernels). Returns `module`.
    """
    for attn in [m for m in module.modules() if isinstance(m, MultiheadAttention)]:
        fused = {}
        for names in (("q_proj", "k_proj", "v_proj"), ("k_proj", "v_proj")):
            fused["_".join(names)] = _fused_linear([getattr(attn, n) for n in names])
        attn.int8_fused = nn.ModuleDict(fused)
    qconfig = torch.ao.quantization.per_channel_dynamic_qconfig  # one scale per output row
    return torch.ao.quantization.quantize_dynamic(module, {nn.Linear: qconfig}, dtype=torch.qint8, inplace=True)
