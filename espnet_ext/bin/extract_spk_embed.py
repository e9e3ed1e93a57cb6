"""Stage 3: speaker embeddings per utterance and per speaker, as Kaldi ark/scp.

    python -m espnet_ext.bin.extract_spk_embed --data dump/raw/train --kind dvector

Writes ``<data>/<kind>.{ark,scp}`` (one vector per utterance) and ``<data>/spk_<kind>.{ark,scp}``
(the L2-normalised mean of each speaker's utterance vectors), as ESPnet's TTS recipes do. For VC
utterances (listed in ``tgt_wav.scp``) the vector is the TARGET speaker's, from the target audio:
it is what steers the conversion. The
scp files are written last, under temporary names then renamed: an existing scp always describes
a complete ark. ``<data>/<kind>.audio_digest`` (written after the scp) holds the checksum of the audio
each vector was computed from: a rerun, e.g. after stage 2 was rerun with other options, reuses a
vector only for the very same audio and recomputes the others (``--overwrite`` recomputes all).
"""
import argparse
import hashlib
import logging
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import kaldiio
import numpy as np
import soundfile as sf
from tqdm import tqdm

from espnet_ext.corpora.data_dir import read_kv, write_text_atomic
from espnet_ext.speaker.embedding import DIMS, build_embedder


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="dump dir with wav.scp (16 kHz mono) and utt2spk")
    p.add_argument("--kind", default="dvector", choices=sorted(DIMS), help="dvector (resemblyzer) or xvector")
    p.add_argument("--spk_model_dir", default="", help="local speechbrain x-vector model (for --kind xvector)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--overwrite", action="store_true", help="recompute even the vectors of unchanged audio")
    p.add_argument(
        "--categories",
        nargs="*",
        default=None,
        help="embed only utterances of these utt2category values (e.g. tts vc: ASR never reads an "
        "embedding); the others get a zero vector, so every utterance still has one (default: all)",
    )
    p.add_argument("--nj", type=int, default=1, help="parallel worker processes")
    return p


def write_ark_scp(stem: Path, vectors: dict) -> None:
    """{key: vector} -> stem.ark + stem.scp; the scp appears only once the ark is complete."""
    scp = stem.with_suffix(".scp")
    scp.unlink(missing_ok=True)
    tmp_scp = stem.with_suffix(".scp.tmp")
    with kaldiio.WriteHelper(f"ark,scp:{stem.with_suffix('.ark')},{tmp_scp}") as writer:
        for key in sorted(vectors):
            writer(key, np.asarray(vectors[key], dtype=np.float32))
    tmp_scp.replace(scp)


NOT_EMBEDDED = "zero"  # the source of a zero vector in <kind>.audio_digest


def audio_digest(path) -> str:
    """Checksum of a file's bytes: a rewrite with the same samples keeps it, any other audio changes it."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "blake2b").hexdigest()[:32]


def speaker_means(utt_vectors: dict, utt2spk: dict) -> dict:
    """L2-normalised mean vector per speaker."""
    groups = {}
    for utt, vec in utt_vectors.items():
        groups.setdefault(utt2spk[utt], []).append(vec)
    means = {}
    for spk, vecs in groups.items():
        mean = np.mean(vecs, axis=0)
        means[spk] = mean / max(np.linalg.norm(mean), 1e-12)
    return means


_worker = {}


def _embed_one(job):
    """(utt, path, kind, model_dir, device) -> (utt, vector); one extractor per worker process."""
    utt, path, kind, model_dir, device = job
    if "embed" not in _worker:
        _worker["embed"] = build_embedder(kind, model_dir, device)
    wav, fs = sf.read(path, dtype="float32")
    return utt, _worker["embed"](wav, fs)


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    data = Path(args.data)
    wav_scp, utt2spk = read_kv(data / "wav.scp"), read_kv(data / "utt2spk")
    if (data / "tgt_wav.scp").exists():
        wav_scp.update({k: v for k, v in read_kv(data / "tgt_wav.scp").items() if k in wav_scp})
    stem = data / args.kind
    scp, digest_file = stem.with_suffix(".scp"), stem.with_suffix(".audio_digest")
    embed = list(wav_scp)
    if args.categories is not None:
        category = read_kv(data / "utt2category")
        embed = [u for u in wav_scp if category.get(u) in args.categories]
        logging.info("%s: %d utterances outside %s get a zero vector", data, len(wav_scp) - len(embed),
                     args.categories)
    # What each vector is computed from: the checksum of its audio, or nothing (a zero vector).
    source = dict.fromkeys(wav_scp, NOT_EMBEDDED)
    source.update({u: audio_digest(wav_scp[u]) for u in embed})
    old = read_kv(digest_file) if scp.exists() and digest_file.exists() and not args.overwrite else {}
    vectors = {u: np.zeros(DIMS[args.kind], dtype=np.float32) for u, src in source.items() if src == NOT_EMBEDDED}
    if old:
        reused = {k: v for k, v in kaldiio.load_scp(str(scp)).items() if old.get(k) == source.get(k) != NOT_EMBEDDED}
        vectors.update(reused)
        logging.info("%s: reusing %d vectors of unchanged audio from %s", data, len(reused), scp)
    todo = [utt for utt in embed if utt not in vectors]
    if todo or old != source:
        logging.info("%s: computing %d vectors (new or changed audio)", data, len(todo))
        jobs = [(utt, wav_scp[utt], args.kind, args.spk_model_dir, args.device) for utt in todo]
        if args.nj > 1 and len(jobs) > 1:
            # CUDA cannot start in a forked child: on a GPU the workers are spawned
            context = multiprocessing.get_context("spawn" if args.device.startswith("cuda") else None)
            with ProcessPoolExecutor(max_workers=args.nj, mp_context=context) as pool:
                results = pool.map(_embed_one, jobs, chunksize=8)
                vectors.update(tqdm(results, total=len(jobs), desc=f"{args.kind} {data.name}"))
        else:
            vectors.update(_embed_one(job) for job in tqdm(jobs, desc=f"{args.kind} {data.name}"))
        digest_file.unlink(missing_ok=True)  # until the new scp is complete, no vector is reusable
        write_ark_scp(stem, vectors)
        write_text_atomic(digest_file, "".join(f"{u} {source[u]}\n" for u in sorted(source)))
    # Per-speaker means over real (non-zero) vectors only.
    real = {u: v for u, v in vectors.items() if np.any(v)}
    missing_spk = sorted(u for u in real if u not in utt2spk)
    if missing_spk:
        raise SystemExit(f"{data}/utt2spk has no speaker for: {', '.join(missing_spk[:10])}")
    means = speaker_means(real, utt2spk)
    write_ark_scp(data / f"spk_{args.kind}", means)
    logging.info("%s: %d utterance and %d speaker %ss", data, len(real), len(means), args.kind)
    return 0


if __name__ == "__main__":
    sys.exit(main())
