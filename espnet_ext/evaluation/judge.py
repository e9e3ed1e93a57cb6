"""Judge ASR for TTS / VC intelligibility: one interface, three back ends.

- ``EspnetJudge``: an ESPnet ASR model (a model-zoo zip, or ``config.yaml`` + model file) through
  ``espnet2.bin.asr_inference.Speech2Text`` -- the offline default (the recipe trains one).
- ``WhisperJudge``: ``openai-whisper`` with weights already on disk (the paper's protocol). Never
  downloads: missing weights or a missing package raise an error that says what to do.
- ``CallableJudge``: any ``fn(wav, fs) -> text``, e.g. our own STTATTS / dMel ASR. Its figures
  are labelled "round-trip": the model judges its own synthesis, so they are not intelligibility.

Every ``JudgeScore`` carries ``judge`` (e.g. ``"whisper:small"``, ``"espnet:asr_train"``,
``"round-trip:sttatts"``) so each number in RESULTS.md names the judge that produced it.
"""
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

import numpy as np

from espnet_ext.evaluation.text_metrics import ErrorRate, score_transcripts

JUDGE_FS = 16000  # Hz: every back end here transcribes 16 kHz audio


def _resample(wav, fs: int, target: int = JUDGE_FS) -> np.ndarray:
    wav = np.asarray(wav, dtype=np.float32).reshape(-1)
    if fs == target:
        return wav
    import soxr

    return soxr.resample(wav, fs, target).astype(np.float32)


@dataclass
class JudgeScore:
    judge: str  # the judge's name; print it next to every figure
    round_trip: bool  # True when the judged model transcribes its own output
    wer: ErrorRate
    cer: ErrorRate
    hypotheses: Dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        kind = "round-trip" if self.round_trip else "intelligibility"
        return f"{kind} [judge {self.judge}]: CER {self.cer.percent:.1f}% WER {self.wer.percent:.1f}%"


class JudgeASR:
    """transcribe(wav, fs) -> text; score(wavs, refs) -> JudgeScore."""

    kind = ""
    round_trip = False

    def __init__(self, name: str):
        self.name = f"{self.kind}:{name}"

    def transcribe(self, wav, fs: int) -> str:
        raise NotImplementedError

    def transcribe_all(self, wavs: Dict[str, np.ndarray], fs: int) -> Dict[str, str]:
        return {utt: self.transcribe(wav, fs) for utt, wav in wavs.items()}

    def score(self, wavs: Dict[str, np.ndarray], refs: Dict[str, str], fs: int, normalizer=None) -> JudgeScore:
        """{utt: waveform at fs}, {utt: reference text} -> CER / WER of this judge's transcripts."""
        hyps = self.transcribe_all(wavs, fs)
        rates = score_transcripts(refs, hyps, normalizer)
        return JudgeScore(self.name, self.round_trip, rates["wer"], rates["cer"], hyps)


class EspnetJudge(JudgeASR):
    kind = "espnet"

    def __init__(self, asr_train_config, asr_model_file, name: Optional[str] = None, device: str = "cpu", **decode):
        """``decode``: Speech2Text options (beam_size, ctc_weight, lm_file, ...)."""
        from espnet2.bin.asr_inference import Speech2Text

        super().__init__(name or Path(asr_model_file).parent.name)
        self.speech2text = Speech2Text(
            asr_train_config=str(asr_train_config), asr_model_file=str(asr_model_file), device=device, **decode
        )

    @classmethod
    def from_zip(cls, zip_path, cachedir=None, name: Optional[str] = None, **kwargs) -> "EspnetJudge":
        """A packed model-zoo zip (``espnet2.main_funcs.pack_funcs.pack``), unpacked into ``cachedir``."""
        from espnet_model_zoo.downloader import ModelDownloader

        from espnet_ext.zoo import verify_zip

        verify_zip(zip_path)
        unpacked = ModelDownloader(cachedir).download_and_unpack(str(Path(zip_path).absolute()))
        return cls(name=name or Path(zip_path).stem, **unpacked, **kwargs)

    def transcribe(self, wav, fs: int) -> str:
        from espnet.nets.pytorch_backend.transformer.subsampling import TooShortUttError

        try:
            nbest = self.speech2text(_resample(wav, fs))
        except TooShortUttError:  # synthesis that stopped at once: nothing to recognise
            return ""
        return nbest[0][0] if nbest else ""


def whisper_weights(model: str, download_root: Optional[str] = None) -> Path:
    """The local ``.pt`` for a Whisper model name or path; FileNotFoundError if it is not on disk."""
    if Path(model).is_file():
        return Path(model)
    root = download_root or os.path.join(os.getenv("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "whisper")
    path = Path(root) / f"{model}.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"Whisper weights {path} not found. Copy them there from a machine with internet "
            f"(python -c \"import whisper; whisper.load_model('{model}')\" downloads to ~/.cache/whisper), "
            "or pass the path of a .pt file; otherwise use an ESPnet judge."
        )
    return path


class WhisperJudge(JudgeASR):
    kind = "whisper"

    def __init__(
        self, model: str = "small", download_root: Optional[str] = None, language: str = "en", device: str = "cpu"
    ):
        weights = whisper_weights(model, download_root)
        try:
            import whisper
        except ImportError as err:
            raise ImportError(
                "the Whisper judge needs the 'openai-whisper' package (pip install openai-whisper)"
            ) from err
        super().__init__(Path(model).stem)
        self.language = language
        self.model = whisper.load_model(str(weights), device=device)  # a file path: never downloads

    def transcribe(self, wav, fs: int) -> str:
        out = self.model.transcribe(_resample(wav, fs), language=self.language, fp16=False, temperature=0.0)
        return out["text"].strip()


class CallableJudge(JudgeASR):
    """Wraps ``fn(wav, fs) -> text``; round-trip by default (our own model judging its output)."""

    kind = "round-trip"

    def __init__(self, fn: Callable[[np.ndarray, int], str], name: str, round_trip: bool = True):
        if not round_trip:
            self.kind = "asr"
        self.round_trip = round_trip
        super().__init__(name)
        self.fn = fn

    def transcribe(self, wav, fs: int) -> str:
        return self.fn(np.asarray(wav, dtype=np.float32), fs)


def judge_options(pairs: Sequence[str]) -> dict:
    """["beam_size=5", "ctc_weight=0.3"] -> {"beam_size": 5, "ctc_weight": 0.3} (values read as YAML):
    the judge's decoding options as the recipes' ``--judge_opts`` give them."""
    import yaml

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--judge_opts {pair!r}: expected KEY=VALUE")
        out[key] = yaml.safe_load(value)
    return out


def add_judge_arguments(parser) -> None:
    """``--judge``, ``--judge_opts`` and ``--device`` of the recipes' scorers (stage 7)."""
    parser.add_argument("--judge", default="", help="judge ASR (espnet_ext.evaluation.judge.build_judge spec)")
    parser.add_argument("--judge_opts", nargs="*", default=[], metavar="KEY=VALUE",
                        help="decoding options of the judge, e.g. beam_size=5 (default: the judge's own defaults)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda: where the judge and the speaker encoder run")


def judge_from_args(args) -> Optional[JudgeASR]:
    """The judge named by ``add_judge_arguments``' options, on ``args.device``; None without ``--judge``."""
    return build_judge(args.judge, device=args.device, **judge_options(args.judge_opts)) if args.judge else None


def build_judge(spec: str, **kwargs) -> JudgeASR:
    """A judge from a recipe option:

    - ``whisper:<name or .pt path>`` (e.g. ``whisper:small``)
    - ``<path>.zip`` or ``espnet:<path>.zip``: an ESPnet model-zoo zip
    - ``espnet:<config.yaml>,<model.pth>``: an ESPnet ASR config and model file
    """
    kind, _, rest = spec.partition(":") if ":" in spec else ("espnet", "", spec)
    if kind == "whisper":
        return WhisperJudge(rest, **kwargs)
    if kind == "espnet":
        if rest.endswith(".zip"):
            return EspnetJudge.from_zip(rest, **kwargs)
        config, sep, model = rest.partition(",")
        if sep:
            return EspnetJudge(config, model, **kwargs)
    raise ValueError(f"unknown judge {spec!r}: use whisper:<name>, <model>.zip or espnet:<config.yaml>,<model.pth>")
