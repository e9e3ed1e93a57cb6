"""Training phases: which data categories train and which parameters are frozen, by update count.

One schedule serves the paper's two variants that change over training:

- multi-stage training (section 6.2): e.g. ASR first (everything trains on ASR data), then TTS
  with the encoder and decoder frozen::

      phases:
      -   until_update: 20000
          categories: [asr]
      -   categories: [tts]
          freeze: ["backbone.encoder.*", "backbone.decoder.*"]

- warm fine-tuning (section 4.3): a first data set for N updates, then another; data sets are
  told apart by their ``utt2category`` value (``<task>`` or ``<task>:<tag>``)::

      phases:
      -   until_update: 200000
          categories: ["asr:ls500", tts]
      -   categories: [asr, tts]

A phase is active from the end of the previous one until ``until_update`` (exclusive; the last
phase may omit it and lasts to the end). ``freeze`` holds fnmatch patterns on parameter names
(``model.named_parameters()``). Utterances whose category the active phase does not list are
dropped from the batch before the forward pass (they cost data loading, not compute).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence


@dataclass
class Phase:
    """One phase of training (see the module docstring)."""

    until_update: Optional[int] = None
    categories: Optional[list] = None  # None = every category trains
    freeze: list = field(default_factory=list)  # fnmatch patterns on parameter names

    @classmethod
    def from_dict(cls, d: dict) -> "Phase":
        unknown = set(d) - {"until_update", "categories", "freeze"}
        if unknown:
            raise ValueError(f"unknown phase keys {sorted(unknown)} (allowed: until_update, categories, freeze)")
        return cls(d.get("until_update"), d.get("categories"), list(d.get("freeze") or []))


class PhaseSchedule:
    """An ordered list of phases; ``phase_at(update)`` gives the active one."""

    def __init__(self, phases: Sequence[dict | Phase], known_categories: Sequence[str]):
        self.phases = [p if isinstance(p, Phase) else Phase.from_dict(p) for p in phases]
        bounds = [p.until_update for p in self.phases]
        if any(b is None for b in bounds[:-1]):
            raise ValueError("every phase but the last needs until_update")
        numbers = [b for b in bounds if b is not None]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise ValueError(f"until_update must increase from phase to phase: {bounds}")
        for i, p in enumerate(self.phases):
            for c in p.categories or []:
                if c not in known_categories:
                    raise ValueError(f"phase {i} lists category {c!r}, not one of {list(known_categories)}")

    def __len__(self) -> int:
        return len(self.phases)

    def index_at(self, update: int) -> int:
        """Index of the phase active at ``update`` (0-based count of optimizer updates done)."""
        for i, p in enumerate(self.phases):
            if p.until_update is None or update < p.until_update:
                return i
        return len(self.phases) - 1  # past the last bound: the last phase continues


def matches(name: str, patterns: Iterable[str]) -> bool:
    """True if a parameter name matches any fnmatch pattern (``*`` also crosses dots)."""
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def frozen_names(names: Iterable[str], patterns: Iterable[str]) -> list:
    """The names that the patterns freeze (in the given order)."""
    patterns = list(patterns)
    return [n for n in names if matches(n, patterns)]
