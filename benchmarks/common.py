"""Shared pieces of the benchmark scripts: thread setup, load report, timing, converted model pairs.

Every benchmark builds the reference (transformers / ESPnet / the ``dmel`` package) and ours on the
same weights and inputs, times them alternately (so a load change on the shared machine hits both
sides alike) and prints medians, the ratio, and the load seen before and after. The comparison of
the two sides' outputs is part of every verdict: a speed ratio of code that computes something else
is no figure, so a mismatch prints INVALID and the script exits non-zero (`footer`).
"""
from __future__ import annotations

import os

# Before torch loads OpenMP. This machine's 2 cores are shared with other jobs. When they are busy
# (1-minute load average >= cores), spinning OpenMP workers make every parallel region of a
# 2-thread op wait for a descheduled thread: timings of both sides then measure the scheduler (up
# to 20x slower, changing from run to run), so waiting workers are made to sleep (PASSIVE). On a
# quiet machine OpenMP's default (spin, then sleep) is kept: sleeping costs a wake-up per region.
# An OMP_WAIT_POLICY given in the environment wins. Both sides of a comparison run with the same.
if "OMP_WAIT_POLICY" not in os.environ and os.getloadavg()[0] >= (os.cpu_count() or 1):
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, Dict, List  # noqa: E402

import torch  # noqa: E402

THREADS = 2  # the setting: 2 threads on the 2-core CPU
# transformers' English SpeechT5 vocabulary size; our token list mirrors its layout (fairseq
# specials, characters, <mask>, <ctc_blank>) so that converted ids mean the same thing
HF_VOCAB = 81


def setup(threads: int = THREADS) -> None:
    torch.set_num_threads(threads)
    torch.manual_seed(0)


def load_average() -> str:
    """The 1/5/15-minute load averages (2 cores here: load 2 = both busy)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def header(title: str, command: str) -> None:
    print(f"# {title}")
    print(f"command: {command}")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, OMP_WAIT_POLICY "
          f"{os.environ.get('OMP_WAIT_POLICY', 'default (spin, then sleep)')}, {platform.processor() or platform.machine()}, "
          f"load average before: {load_average()}")


@dataclass(frozen=True)
class OutputCheck:
    """Whether the two sides of a comparison computed the same outputs, and how that was judged."""

    what: str  # the outputs compared: "hypotheses", "mel frames"
    equal: bool
    tolerance: str  # "exact", or "max |diff| <= 1e-04"
    measured: str = ""  # what was seen: "max |diff| 2.9e-06"

    def __str__(self) -> str:
        state = "identical" if self.equal else "DIFFER"
        return f"{self.what} {state} ({self.tolerance}{'; ' + self.measured if self.measured else ''})"


def exact(what: str, equal: bool) -> OutputCheck:
    """Outputs that must be equal (ids, hypotheses, tokens, lengths)."""
    return OutputCheck(what, bool(equal), "exact")


def within(what: str, diff: float, tolerance: float) -> OutputCheck:
    """Float outputs whose max |difference| must be <= tolerance (NaN or inf never is)."""
    diff = float(diff)
    ok = math.isfinite(diff) and diff <= tolerance
    return OutputCheck(what, ok, f"max |diff| <= {tolerance:.0e}", f"max |diff| {diff:.2e}")


_INVALID: List[str] = []  # the comparisons of this run whose outputs differed (`footer` exits non-zero)


def check_outputs(label: str, outputs: OutputCheck) -> bool:
    """Print the comparison of outputs; a mismatch makes the run INVALID (exit status 1 at `footer`)."""
    print(f"{label}: {outputs}{'' if outputs.equal else ' -> INVALID'}")
    if not outputs.equal:
        _INVALID.append(label)
    return outputs.equal


def verdict(ratio: float, target: float, outputs: OutputCheck) -> str:
    """INVALID when the outputs differ (the ratio then means nothing), else MET / NOT MET."""
    if not outputs.equal:
        return "INVALID"
    return "MET" if ratio >= target else "NOT MET"


def footer(start: float) -> None:
    """Load after the run; exits with status 1 if any comparison of this run was INVALID."""
    print(f"load average after: {load_average()}; wall time {time.time() - start:.0f} s")
    if _INVALID:
        print(f"INVALID: the two sides' outputs differ in: {', '.join(_INVALID)}")
        sys.exit(1)


def alternate(fns: Dict[str, Callable[[], object]], repeat: int, warmup: int = 1) -> Dict[str, List[float]]:
    """Run every function `warmup` times, then `repeat` rounds of each in turn; seconds per call."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def median(xs: List[float]) -> float:
    return statistics.median(xs)


def report(label: str, ref_name: str, ref: List[float], ours: List[float], target: float, *,
           outputs: OutputCheck, unit: str = "s", higher_is_better: bool = False) -> str:
    """Print the two medians, ratio = how many times ours is better, and the verdict, which is
    INVALID when `outputs` differ (recorded for `footer`'s exit status); returns the verdict."""
    r, o = median(ref), median(ours)
    ratio = (o / r) if higher_is_better else (r / o)
    result = verdict(ratio, target, outputs)
    print(f"{label}: {ref_name} {r:.4g} {unit}, ours {o:.4g} {unit} (median of {len(ours)}; "
          f"spread ours {min(ours):.4g}-{max(ours):.4g}) -> ratio {ratio:.2f}x (target >= {target}x: {result}; "
          f"{outputs})")
    if result == "INVALID":
        _INVALID.append(label)
    return result


def token_list(vocab_size: int = HF_VOCAB) -> List[str]:
    """fairseq layout: 4 specials, characters, <mask>, <ctc_blank> (`vocab_size` entries)."""
    from espnet_ext.bin.make_token_list import HEAD, TAIL

    n = vocab_size - len(HEAD) - len(TAIL)
    chars = ["▁", *"abcdefghijklmnopqrstuvwxyz'", *(chr(0x100 + i) for i in range(n))][:n]
    return [*HEAD, *chars, *TAIL]


def hf_config(**overrides):
    from transformers import SpeechT5Config as HFConfig

    return HFConfig(**overrides)


def randomize_norms(model: torch.nn.Module, seed: int = 0) -> None:
    """LayerNorm / BatchNorm parameters away from (1, 0): a random model whose outputs are not
    degenerate (greedy text otherwise repeats one token), so hypotheses are a real check."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.LayerNorm, torch.nn.BatchNorm1d)) and m.weight is not None:
                m.weight.copy_(1.0 + 0.2 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=gen))


def suppress_eos(hf) -> None:
    """Make the random ASR model never rank eos high: its (tied) embedding row is turned against
    the bias of the last decoder LayerNorm, around which the final states lie. Decoding then runs
    to the fixed maximum length on both sides, a stand-in for a transcript of that length, and
    beam searches that treat ended hypotheses differently (transformers normalises scores by
    length, ESPnet does not) still rank the same hypotheses."""
    eos = hf.config.eos_token_id
    beta = hf.speecht5.decoder.wrapped_decoder.layers[-1].final_layer_norm.bias.detach()
    with torch.no_grad():
        emb = hf.get_output_embeddings().weight
        emb[eos] = -beta / beta.norm()


def converted_pair(hf_cls, hf_cfg, workdir, config_yaml: str | None = None, seed: int = 0, prepare=None):
    """A random transformers model and ours converted from it (save_pretrained -> convert_speecht5).

    `prepare(hf_model)` may change the weights before saving. Writes ``workdir/ours/{config.yaml,
    model.pth}``. Returns (hf_model, our ESPnet model, (config path, model path)), both models in
    eval mode; ours has the task fusion's identity projection (it computes what transformers does).
    """
    from espnet_ext.bin.convert_speecht5 import convert
    from espnet_ext.tasks.sttatts import STTATTSTask

    torch.manual_seed(seed)
    hf = hf_cls(hf_cfg).eval()
    randomize_norms(hf, seed)
    if prepare is not None:
        prepare(hf)
    workdir = Path(workdir)
    hf.save_pretrained(workdir / "hf")
    (workdir / "tokens.txt").write_text("".join(t + "\n" for t in token_list(hf_cfg.vocab_size)), encoding="utf-8")
    convert([str(workdir / "hf")], str(workdir / "tokens.txt"), workdir / "ours", config_yaml)
    paths = (workdir / "ours" / "config.yaml", workdir / "ours" / "model.pth")
    model, _ = STTATTSTask.build_model_from_file(*paths)
    return hf, model.eval(), paths
