"""Where CPU bf16 autocast's default is slower: the pre-net's and post-net's 1-D convolutions.

Under ``torch.autocast("cpu", torch.bfloat16)`` (``--use_amp true`` on CPU) a convolution runs in
bf16, and oneDNN's bf16 backward of these 1-D convolutions is 1.7-2x slower than fp32's on an
AVX-512-BF16 CPU without AMX (benchmarks/RESULTS.md, section 6), more than the forward gains.
"""
from __future__ import annotations

import torch
from torch import nn


def conv_fp32_on_cpu(conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """conv(x), in fp32 when CPU autocast is on; otherwise (GPU, no autocast) exactly conv(x)."""
    if x.device.type != "cpu" or not torch.is_autocast_enabled("cpu"):
        return conv(x)
    with torch.autocast("cpu", enabled=False):
        return conv(x.float())
