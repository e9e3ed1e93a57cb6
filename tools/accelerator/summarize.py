"""summary.md of an accelerator run (tools/accelerator/run.sh): the device, the wall time of every
step (install, synthesis, recipe stages 1-8 from the timestamps of their log lines), the steps per
second of stage 5, and the peak GPU memory (ESPnet's ``gpu_max_cached_mem_GB`` in train.log:
torch.cuda.max_memory_reserved of the training process; nvidia-smi's largest reading of the GPU).

    python tools/accelerator/summarize.py --run_log OUT/run.log --timings T --exp_dir exp/sttatts_x \
        --judge_dir exp/judge_asr_x --ngpu 1 --corpus demo --out OUT/summary.md
"""
import argparse
import csv
import os
import re
import sys
from datetime import datetime
from pathlib import Path

from espnet_ext.evaluation.plots import read_training_stats

STAGE_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d) \(\S+\) (Stage (\d): .*|Successfully finished.*)$")


def stage_seconds(run_log: Path) -> dict:
    """{"stage N": seconds} from the recipe's 'Stage N:' log lines (each to the next; the last to
    'Successfully finished')."""
    marks = []
    for line in run_log.read_text(errors="replace").splitlines():
        m = STAGE_LINE.match(line)
        if m:
            marks.append((f"stage {m[3]}" if m[3] else "end", datetime.fromisoformat(m[1])))
    return {name: (marks[i + 1][1] - t).total_seconds() for i, (name, t) in enumerate(marks[:-1]) if name != "end"}


def training_figures(exp_dir: Path, stage5_seconds) -> dict:
    """Steps, steps/s over stage 5's wall time, ESPnet's mean per-step times, peak reserved GPU memory."""
    try:
        train = read_training_stats(exp_dir).get("train", {})
    except FileNotFoundError:
        return {}
    out = {}
    if "total_count" in train:
        out["steps"] = int(train["total_count"][-1][1])
        if stage5_seconds:
            out["steps_per_s_stage5"] = out["steps"] / stage5_seconds
    for key in ("train_time", "iter_time"):
        if key in train:
            out[key] = sum(v for _, v in train[key]) / len(train[key])
    if "gpu_max_cached_mem_GB" in train:
        out["gpu_max_reserved_GB"] = max(v for _, v in train["gpu_max_cached_mem_GB"])
    return out


def nvidia_smi_peak_mib(path: Path):
    """Largest memory.used (MiB) of nvidia-smi's CSV, or None."""
    if not path.is_file():
        return None
    used = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f, skipinitialspace=True):
            value = row.get("memory.used [MiB]", "").split()
            if value and value[0].isdigit():
                used.append(int(value[0]))
    return max(used, default=None)


def device_name(ngpu: int) -> str:
    if ngpu > 0:
        import torch

        if torch.cuda.is_available():
            return f"{ngpu} x {torch.cuda.get_device_name(0)}, {os.cpu_count()} CPU cores"
    return f"CPU only, {os.cpu_count()} cores"


def _fmt_s(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s" if seconds >= 60 else f"{seconds:.1f} s"


def write_summary(args) -> str:
    steps = {}
    if Path(args.timings).is_file():
        for line in Path(args.timings).read_text().splitlines():
            name, ms = line.split("\t")
            steps[name] = int(ms) / 1000
    steps.update(stage_seconds(Path(args.run_log)) if Path(args.run_log).is_file() else {})
    lines = [f"# Accelerator run: {args.corpus} corpus, --ngpu {args.ngpu}", "",
             f"- device: {device_name(args.ngpu)}",
             f"- total wall time: {_fmt_s(args.total_seconds)}" if args.total_seconds else "- total wall time: -",
             "", "| step | wall time |", "|---|---|"]
    lines += [f"| {name} | {_fmt_s(s)} |" for name, s in steps.items()]
    lines += [""]
    for label, exp in (("STTATTS", args.exp_dir), ("judge ASR", args.judge_dir)):
        fig = training_figures(Path(exp), steps.get("stage 5"))
        if not fig:
            lines.append(f"- {label}: no train.log with finished epochs in {exp}")
            continue
        parts = [f"{fig.get('steps', '-')} steps"]
        if "steps_per_s_stage5" in fig:
            parts.append(f"{fig['steps_per_s_stage5']:.2f} steps/s over stage 5's wall time (validation and saving included)")
        if "train_time" in fig:
            parts.append(f"ESPnet's mean train_time {fig['train_time']:.3f} s/step, iter_time (data wait) {fig.get('iter_time', 0):.3f} s")
        if "gpu_max_reserved_GB" in fig:
            parts.append(f"peak GPU memory reserved {fig['gpu_max_reserved_GB']:.2f} GiB")
        lines.append(f"- {label}: " + "; ".join(parts))
    peak = nvidia_smi_peak_mib(Path(args.nvidia_smi)) if args.nvidia_smi else None
    if peak is not None:
        lines.append(f"- nvidia-smi: largest memory.used {peak} MiB (every process on the GPU, sampled every 2 s)")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text, encoding="utf-8")
    return text


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run_log", required=True, help="the recipe's output (its 'Stage N:' lines are timed)")
    p.add_argument("--timings", default="", help="name<TAB>milliseconds lines of the steps before the recipe")
    p.add_argument("--exp_dir", required=True)
    p.add_argument("--judge_dir", required=True)
    p.add_argument("--ngpu", type=int, default=1)
    p.add_argument("--corpus", default="demo")
    p.add_argument("--nvidia_smi", default="", help="nvidia-smi --format=csv output with memory.used")
    p.add_argument("--total_seconds", type=float, default=0.0)
    p.add_argument("--out", required=True)
    return p


def main(argv=None) -> int:
    write_summary(get_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
