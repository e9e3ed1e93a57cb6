"""Task fusion (STTATTS, section 3.2): a task vector concatenated to every frame, projected back.

    y_t = W [v_task ; x_t] + b,     v_task in R^128,  x_t in R^D,  W in R^{D x (128 + D)}

The task vector comes FIRST in the concatenation, as in the released STTATTS code, so its
``projection_task`` weight loads unchanged. Task vectors are either fixed (a random unit vector
per task, drawn from a generator seeded by the task id, as the released code does: asr = 1,
tts = 2, vc = 3) or learned. The projection starts either as the identity on the frames (task
block zero, bias zero: a converted SpeechT5 model computes exactly what it computed before) or
randomly (N(0, 0.02), as the released code).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

TASKS = ("asr", "tts", "vc")  # the order of the task-vector table; id = index
POSITIONS = ("after_encoder", "before_encoder")
INITS = ("identity", "random")


def task_seed(task_id: int) -> int:
    """Generator seed of a fixed task vector: the released code's ids (s2t = 1, t2s = 2), vc = 3."""
    return task_id + 1


def fixed_task_vector(task_id: int, dim: int) -> torch.Tensor:
    """The released code's vector: normalize(randn(1, dim, generator seeded by the task id))."""
    gen = torch.Generator().manual_seed(task_seed(task_id))
    return F.normalize(torch.randn(1, dim, generator=gen))[0]


class TaskFusion(nn.Module):
    """(B, T, D) frames + task ids (B,) -> (B, T, D) task-conditioned frames.

    Args:
        d_model: frame dimension D.
        task_dim: size of the task vector (128 in the paper).
        position: ``after_encoder`` (the paper: conditions the decoder's memory) or
            ``before_encoder`` (the ablation: conditions the encoder's input).
        learned_vectors: learn the task vectors (an Embedding) instead of fixed random unit vectors.
        init: ``identity`` (outputs unchanged at step 0) or ``random`` (N(0, 0.02), zero bias).
    """

    def __init__(
        self,
        d_model: int,
        task_dim: int = 128,
        position: str = "after_encoder",
        learned_vectors: bool = False,
        init: str = "identity",
    ):
        super().__init__()
        if position not in POSITIONS:
            raise ValueError(f"position must be one of {POSITIONS}, got {position!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.d_model = d_model
        self.task_dim = task_dim
        self.position = position
        self.learned_vectors = learned_vectors
        self.init = init
        self.tasks = TASKS
        vectors = torch.stack([fixed_task_vector(i, task_dim) for i in range(len(self.tasks))])
        if learned_vectors:
            self.task_vectors = nn.Parameter(vectors)
        else:
            self.register_buffer("task_vectors", vectors)
        self.proj = nn.Linear(task_dim + d_model, d_model)
        self.reset_projection()

    def reset_projection(self) -> None:
        """Initialise the projection as configured (identity or random)."""
        with torch.no_grad():
            if self.init == "identity":
                self.proj.weight.zero_()
                self.proj.weight[:, self.task_dim :].copy_(torch.eye(self.d_model))
            else:
                self.proj.weight.normal_(0.0, 0.02)
            self.proj.bias.zero_()

    def task_id(self, task: str) -> int:
        return self.tasks.index(task)

    def forward(self, x: torch.Tensor, task_ids: torch.Tensor | int) -> torch.Tensor:
        """x (B, T, D), task_ids (B,) long or one int for the whole batch -> (B, T, D)."""
        # W [v; x] + b = W_x x + (W_v v + b): the task part is one vector per utterance, so the
        # (B, T, task_dim + D) concatenation is never built (nor kept for the backward pass)
        if isinstance(task_ids, int):
            vec = self.task_vectors[task_ids][None]  # (1, task_dim)
        else:
            vec = self.task_vectors[task_ids.to(x.device)]  # (B, task_dim)
        # in x's dtype, also under autocast: the identity-initialised projection then passes the
        # fp32 encoder output through exactly (bf16 would round every frame of the memory)
        with torch.autocast(x.device.type, enabled=False):
            weight = self.proj.weight.to(x.dtype)
            shift = F.linear(vec.to(x.dtype), weight[:, : self.task_dim], self.proj.bias.to(x.dtype))
            return F.linear(x, weight[:, self.task_dim :]) + shift[:, None, :]

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, task_dim={self.task_dim}, position={self.position}, "
            f"learned_vectors={self.learned_vectors}, init={self.init}, tasks={self.tasks}"
        )
