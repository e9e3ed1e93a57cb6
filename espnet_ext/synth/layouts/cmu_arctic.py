"""CMU Arctic layout (parallel: every speaker reads the same prompts).

    cmu_us_<spk>_arctic/wav/arctic_a0001.wav       16 kHz, 16-bit
    cmu_us_<spk>_arctic/etc/txt.done.data          '( arctic_a0001 "Text here." )' per line

Prompts are numbered arctic_a0001..a0593, then arctic_b0001..b0539, as in the real set. Speakers
take the names of the real Arctic speakers with their genders (bdl, slt, clb, rms, ...). The last
``eval_utts_per_speaker`` prompts are held-out sentences, so a recipe that holds out the last
prompts for VC evaluation tests on unseen sentences.
"""
from espnet_ext.synth.corpus import CorpusPlan, PlannedUtterance
from espnet_ext.synth.layouts.common import resolve_common
from espnet_ext.synth.sentences import SentenceGenerator
from espnet_ext.synth.voices import draw_speakers

SAMPLE_RATE = 16000
LANGS = ("en",)
DEFAULT_NUM_SPEAKERS = 4
# The real CMU Arctic speakers, in the order they are used, with their genders.
ARCTIC_SPEAKERS = (
    ("bdl", "M"), ("slt", "F"), ("clb", "F"), ("rms", "M"), ("jmk", "M"), ("awb", "M"), ("ksp", "M"),
    ("axb", "F"), ("eey", "F"), ("ljm", "F"), ("lnh", "F"), ("slp", "F"), ("aew", "M"), ("ahw", "M"),
    ("aup", "M"), ("fem", "M"), ("gka", "M"), ("rxr", "M"),
)
A_PROMPTS = 593  # arctic_a0001..a0593, then the b set


def resolve(opts):
    opts = resolve_common(opts, LANGS, DEFAULT_NUM_SPEAKERS)
    if opts.num_speakers > len(ARCTIC_SPEAKERS):
        raise ValueError(f"cmu_arctic: at most {len(ARCTIC_SPEAKERS)} speakers")
    return opts


def prompt_id(i: int) -> str:
    """0 -> 'arctic_a0001', 593 -> 'arctic_b0001'."""
    return f"arctic_a{i + 1:04d}" if i < A_PROMPTS else f"arctic_b{i - A_PROMPTS + 1:04d}"


def speaker_dir(name: str) -> str:
    return f"cmu_us_{name}_arctic"


def _is_prompt(sentence) -> bool:
    # txt.done.data quotes the prompt with '"', so a prompt must not contain one.
    return '"' not in sentence.text


def plan(opts) -> CorpusPlan:
    n_heldout = min(opts.utts_for("test"), opts.utts_per_speaker - 1)
    gen = SentenceGenerator(opts.lang, opts.seed)
    prompts = gen.sentences(opts.utts_per_speaker - n_heldout, "train", stream="cmu_arctic", accept=_is_prompt)
    prompts += gen.sentences(n_heldout, "test", stream="cmu_arctic", accept=_is_prompt)
    names = ARCTIC_SPEAKERS[: opts.num_speakers]
    speakers = draw_speakers(opts.lang, "train", len(names), f"cmu_arctic/{opts.seed}", genders=[g for _, g in names])
    done_data = "".join(f'( {prompt_id(i)} "{p.text}" )\n' for i, p in enumerate(prompts))
    utterances, files = [], {}
    for (name, _), speaker in zip(names, speakers):
        top = speaker_dir(name)
        for i, p in enumerate(prompts):
            utterances.append(PlannedUtterance(f"{top}/wav/{prompt_id(i)}.wav", p.text, speaker, SAMPLE_RATE))
        files[f"{top}/etc/txt.done.data"] = done_data
    tops = tuple(speaker_dir(name) for name, _ in names)
    return CorpusPlan(
        tops[0], utterances, lambda durations: files,
        f"{len(names)} speakers ({', '.join(n for n, _ in names)}) x {len(prompts)} prompts, last {n_heldout} held out",
        tops=tops,
    )
