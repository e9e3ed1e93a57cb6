"""tools/accelerator/run.sh, the accelerator run, as its CPU dry run: every step (install check,
synthesis, recipe stages 1-8) on a tiny corpus with --ngpu 0 and two training steps, and the
figures it writes for the lead (summary.md, RESULTS.md, training curves)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools/accelerator"))  # summarize.py is a script, not a package module

import summarize  # noqa: E402


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("accelerator_out")
    work = tmp_path_factory.mktemp("accelerator_work") / "recipe"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        ["bash", str(ROOT / "tools/accelerator/run.sh"), "--ngpu", "0", "--corpus", "tiny", "--nj", "1",
         "--inference_nj", "1", "--out", str(out), "--workdir", str(work),
         # two steps of small batches, no loader processes, short decoding: the untrained model
         # would otherwise decode to the length limits
         "--train_args", "--max_epoch 1 --num_iters_per_epoch 2 --num_workers 0 --batch_bins 400000",
         "--inference_args", "--batch_size 16 --beam_size 2 --maxlenratio 0.5"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return out, work


def test_dry_run_times_every_step_and_writes_the_figures(dry_run):
    out, _ = dry_run
    summary = (out / "summary.md").read_text()
    assert "tiny corpus, --ngpu 0" in summary and "CPU only" in summary
    for step in ("install", "synthesis", *(f"stage {n}" for n in range(1, 9))):
        assert f"| {step} |" in summary, step
    assert "- STTATTS: 2 steps" in summary and "- judge ASR: 2 steps" in summary
    results = (out / "RESULTS.md").read_text()
    for heading in ("## ASR", "## TTS", "## VC", "judge ASR for TTS/VC: espnet:judge_asr_sttatts_gpu"):
        assert heading in results
    assert (out / "training_curves.png").stat().st_size > 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["summary.md", "RESULTS.md", "training_curves.png", "run.log", "train_sttatts.log", "train_judge.log"])


def test_dry_run_used_the_gpu_configs_on_the_cpu(dry_run):
    out, work = dry_run
    log = (out / "run.log").read_text()
    assert "--train_config conf/sttatts_gpu.yaml" in log and "--judge_config conf/judge_asr_gpu.yaml" in log
    assert "Stage 6: inference (cpu)" in log and "--ngpu 0" in log
    config = (work / "exp/sttatts_sttatts_gpu/config.yaml").read_text()
    assert "use_amp: true" in config and "d_model: 192" in config  # the GPU config, its batch set by --train_args
    assert (work / "exp/sttatts_sttatts_gpu/sttatts_sttatts_gpu.zip").is_file()  # stage 8


def test_summary_reads_stage_times_and_gpu_memory(tmp_path):
    log = tmp_path / "run.log"
    log.write_text(
        "2026-12-04T10:00:00 (sttatts.sh:60) Stage 3: speaker embeddings (dvector, cuda)\n"
        "noise line\n"
        "2026-12-04T10:00:42 (sttatts.sh:90) Stage 4: token list and collect stats\n"
        "2026-12-04T10:02:02 (sttatts.sh:200) Successfully finished stages 3-4\n"
    )
    assert summarize.stage_seconds(log) == {"stage 3": 42.0, "stage 4": 80.0}
    smi = tmp_path / "smi.csv"
    smi.write_text("timestamp, memory.used [MiB], memory.total [MiB], utilization.gpu [%]\n"
                   "2026/12/04 10:00:00.000, 812 MiB, 143771 MiB, 3 %\n"
                   "2026/12/04 10:00:02.000, 20517 MiB, 143771 MiB, 88 %\n"
                   "2026/12/04 10:00:04.000, 9000 MiB, 143771 MiB, 40 %\n")
    assert summarize.nvidia_smi_peak_mib(smi) == 20517
