"""Run a command as N parallel jobs on a back end, Kaldi run.pl / slurm.pl style.

    python -m espnet_ext.bin.run_jobs [--backend local|slurm|ssh] [--gpu N] [--mem 4G] \
        [--num_threads N] [JOB=1:N] LOGFILE COMMAND...

Every ``JOB`` in LOGFILE and COMMAND is replaced by the job number. Each job's output goes to its
log file, which starts with the command line and ends with its exit code and wall time (as
Kaldi's run.pl). A log without ``JOB`` in its name (a training's ``train.log``) is not overwritten
by a rerun or a resumed training: the old one moves to ``train.1.log`` (an older ``.1`` to ``.2``,
and so on, as ESPnet's launcher rotates its logs); per-job logs are overwritten. Exit status is 0
only when every job succeeded; failed jobs are listed with their logs. Recipes set
``train_cmd``/``cuda_cmd``/``decode_cmd`` to this in ``cmd.sh``.

Back ends: ``local`` (processes on this machine, at most ``--max_jobs_run`` at a time), ``slurm``
(one ``srun`` per job; ``--gpu`` becomes ``--gres=gpu:N``, ``--mem`` and ``--num_threads`` become
``--mem``/``--cpus-per-task``; extra sbatch options from ``$SLURM_EXTRA_OPTS``), ``ssh`` (jobs spread
round-robin over the hosts of ``--hosts`` or ``$SSH_HOSTS``, comma-separated, which must share the
file system; the job runs in the current directory).
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

_RANGE = re.compile(r"^([A-Za-z_]+)=(\d+):(\d+)$")
MAX_ROTATED_LOGS = 1000  # ESPnet's launcher keeps as many


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backend", default=os.environ.get("ESPNET_EXT_BACKEND", "local"), choices=("local", "slurm", "ssh"))
    p.add_argument("--gpu", type=int, default=0, help="GPUs per job (slurm: --gres=gpu:N)")
    p.add_argument("--mem", default="", help="memory per job, e.g. 8G (slurm only)")
    p.add_argument("--num_threads", type=int, default=1, help="CPU threads per job (slurm: --cpus-per-task)")
    p.add_argument("--max_jobs_run", type=int, default=os.cpu_count() or 1, help="parallel jobs at most (local)")
    p.add_argument("--hosts", default=os.environ.get("SSH_HOSTS", ""), help="comma-separated hosts (ssh)")
    p.add_argument("--name", default="", help="job name (slurm)")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="[JOB=1:N] LOGFILE COMMAND...")
    return p


def split_job_range(rest: list):
    """-> (variable, first, last, logfile, command words)."""
    if rest and _RANGE.match(rest[0]):
        var, first, last = _RANGE.match(rest[0]).groups()
        rest = rest[1:]
    else:
        var, first, last = "JOB", "1", "1"
    if len(rest) < 2:
        raise SystemExit("usage: run_jobs [options] [JOB=1:N] LOGFILE COMMAND...")
    return var, int(first), int(last), rest[0], rest[1:]


def wrap(args, command: str, job: int, hosts: list) -> list:
    if args.backend == "local":
        return ["bash", "-c", command]
    if args.backend == "slurm":
        opts = [f"--cpus-per-task={args.num_threads}", "--ntasks=1"]
        opts += [f"--gres=gpu:{args.gpu}"] if args.gpu else []
        opts += [f"--mem={args.mem}"] if args.mem else []
        opts += [f"--job-name={args.name}"] if args.name else []
        opts += shlex.split(os.environ.get("SLURM_EXTRA_OPTS", ""))
        return ["srun", *opts, "bash", "-c", command]
    if not hosts:
        raise SystemExit("ssh back end needs --hosts or $SSH_HOSTS")
    host = hosts[(job - 1) % len(hosts)]
    return ["ssh", host, f"cd {shlex.quote(os.getcwd())} && {command}"]


def rotate_log(log: Path, keep: int = MAX_ROTATED_LOGS) -> None:
    """Move an existing ``x.log`` to ``x.1.log``, shifting older ones up (the oldest beyond ``keep`` goes)."""
    if not log.exists():
        return
    nth = lambda i: log.with_name(f"{log.stem}.{i}{log.suffix}")  # noqa: E731
    nth(keep).unlink(missing_ok=True)
    for i in range(keep - 1, 0, -1):
        if nth(i).exists():
            nth(i).rename(nth(i + 1))
    log.rename(nth(1))


def run_one(args, var: str, job: int, logfile: str, words: list, hosts: list) -> int:
    sub = lambda s: s.replace(var, str(job))  # noqa: E731 (Kaldi substitutes the name anywhere)
    log = Path(sub(logfile))
    log.parent.mkdir(parents=True, exist_ok=True)
    if var not in logfile:
        rotate_log(log)
    command = " ".join(shlex.quote(sub(w)) if (" " in w and not w.startswith(("'", '"'))) else sub(w) for w in words)
    start = time.time()
    with open(log, "w") as fh:
        fh.write(f"# {command}\n# Started at {time.ctime()}\n#\n")
        fh.flush()
        code = subprocess.call(wrap(args, command, job, hosts), stdout=fh, stderr=subprocess.STDOUT)
        fh.write(f"# Accounting: time={int(time.time() - start)} threads={args.num_threads}\n")
        fh.write(f"# Ended (code {code}) at {time.ctime()}, elapsed time {int(time.time() - start)} seconds\n")
    return code


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    var, first, last, logfile, words = split_job_range(args.rest)
    hosts = [h for h in args.hosts.split(",") if h]
    jobs = list(range(first, last + 1))
    workers = 1 if len(jobs) == 1 else max(1, min(len(jobs), args.max_jobs_run if args.backend == "local" else len(jobs)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        codes = list(pool.map(lambda j: run_one(args, var, j, logfile, words, hosts), jobs))
    failed = [j for j, c in zip(jobs, codes) if c != 0]
    if failed:
        for j in failed:
            print(f"run_jobs: job {j} failed, see {logfile.replace(var, str(j))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
