"""Recipe tests run a recipe in a temporary folder made of links to its files (outputs stay there)."""
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECIPE_FILES = ("run.sh", "sttatts.sh", "path.sh", "cmd.sh", "db.sh", "conf", "local", "scripts")


def link_recipe(recipe: str, dest: Path, files=RECIPE_FILES) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in files:
        (dest / name).symlink_to(ROOT / "egs2" / recipe / name)
    return dest


def synthesize(dest: Path, layout: str, **opts) -> None:
    argv = [str(ROOT / "tools/venv/bin/python"), "-m", "espnet_ext.bin.make_mini_corpus", "--layout", layout,
            "--out", str(dest), "--no_progress", "--nj", "2"]
    for key, value in opts.items():
        argv += [f"--{key}", *(value if isinstance(value, list) else [str(value)])]
    subprocess.run(argv, check=True, capture_output=True)


def run_recipe(recipe_dir: Path, *args, env=None, log="run.log") -> subprocess.CompletedProcess:
    """./run.sh args... in recipe_dir; on failure the assertion shows the log's tail."""
    full_env = {**os.environ, **(env or {})}
    with open(recipe_dir / log, "w") as fh:
        proc = subprocess.run(["./run.sh", *args], cwd=recipe_dir, env=full_env, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = "\n".join((recipe_dir / log).read_text(errors="replace").splitlines()[-40:])
        pytest.fail(f"./run.sh {' '.join(args)} failed ({proc.returncode}):\n{tail}")
    return proc


def read_text_file(path: Path) -> dict:
    """{utt: text} of a Kaldi text file; a line with the id alone is an empty text."""
    rows = (line.partition(" ") for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {utt: text for utt, _, text in rows}


def recount(refs: dict, hyps: dict, normalize) -> dict:
    """WER and CER in % recounted from the text files, independently of the scorer (edit distances
    by `editdistance`, pooled over the set; characters include the spaces between words; an
    utterance without a hypothesis counts as empty)."""
    import editdistance

    ref = {k: " ".join(normalize(t).split()) for k, t in refs.items()}
    hyp = {k: " ".join(normalize(hyps.get(k, "")).split()) for k in refs}
    words = sum(editdistance.eval(ref[k].split(), hyp[k].split()) for k in ref)
    chars = sum(editdistance.eval(ref[k], hyp[k]) for k in ref)
    return {"wer": 100.0 * words / sum(len(t.split()) for t in ref.values()),
            "cer": 100.0 * chars / sum(len(t) for t in ref.values())}


@pytest.fixture(scope="session")
def recipe_tools():
    """The helpers above, for test modules (conftest is not importable under importlib mode)."""
    from types import SimpleNamespace

    return SimpleNamespace(link=link_recipe, synthesize=synthesize, run=run_recipe, root=ROOT,
                           read_text=read_text_file, recount=recount)
