"""Data side of STTATTS: per-utterance preprocessing, mixed-task collation, an optional-sound type.

Every utterance of a (possibly mixed) data dir is loaded under these names:

    speech      wav.scp          waveform: ASR input, TTS target, VC source        (sound)
    text        text             characters: ASR target, TTS input (VC: unused)    (text)
    category    utt2category     asr | tts | vc | <task>:<tag>                     (text)
    spembs      <kind>.scp       speaker embedding (TTS, VC: the TARGET speaker)   (kaldi_ark / npy)
    speech_tgt  tgt_wav.scp      VC target waveform                                (optional_sound)

ESPnet's dataset needs every listed file to hold every utterance; ``tgt_wav.scp`` of a mixed dir
lists VC utterances only, so it is read with the ``optional_sound`` type registered here (a
missing key gives an empty waveform, dropped by the preprocessor).
"""
from __future__ import annotations

import collections.abc
import logging
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
from espnet2.text.char_tokenizer import CharTokenizer
from espnet2.text.token_id_converter import TokenIDConverter
from espnet2.train import dataset as espnet_dataset
from espnet2.train.collate_fn import common_collate_fn

from espnet_ext.sttatts.model import category_task
from espnet_ext.sttatts.task_fusion import TASKS

SPACE = "▁"  # SpeechT5's space piece (make_token_list writes the same)
NOT_SEQUENCE = ("spembs", "category")  # per-utterance vectors: no *_lengths


class CharTextConverter:
    """Text <-> token ids with a character token list (space = ``▁``, unknown = ``<unk>``)."""

    def __init__(self, token_list: Sequence[str], space_symbol: str = SPACE, unk_symbol: str = "<unk>"):
        self.tokenizer = CharTokenizer(space_symbol=space_symbol)
        self.converter = TokenIDConverter(list(token_list), unk_symbol=unk_symbol)

    def text2ids(self, text: str) -> np.ndarray:
        return np.asarray(self.converter.tokens2ids(self.tokenizer.text2tokens(text.strip())), dtype=np.int64)

    def unknown_tokens(self, text: str) -> List[str]:
        """Characters of ``text`` that the token list lacks (``text2ids`` maps them to <unk>)."""
        return sorted({t for t in self.tokenizer.text2tokens(text.strip()) if t not in self.converter.token2id})

    def ids2tokens(self, ids: Iterable[int]) -> List[str]:
        return self.converter.ids2tokens([int(i) for i in ids])

    def ids2text(self, ids: Iterable[int]) -> str:
        return self.tokenizer.tokens2text(self.ids2tokens(ids))


class STTATTSPreprocessor:
    """ESPnet preprocess_fn: text -> ids (no eos: the model adds it), category -> id (1,).

    Characters outside the token list become ``<unk>`` (ESPnet's rule), with one warning per
    utterance that names it and the characters.

    Args:
        token_list: the character vocabulary.
        categories: the category table (ids = positions).
        default_category: category of utterances that have no ``category`` data.
        train: check that every utterance has what its task trains on (VC: ``speech_tgt``).
    """

    def __init__(
        self, token_list: Sequence[str], categories: Sequence[str] = TASKS, default_category: str = "asr", train: bool = True
    ):
        self.train = train
        self.text = CharTextConverter(token_list)
        self.categories = list(categories)
        for c in self.categories:
            category_task(c)  # raises on a malformed name
        if default_category not in self.categories:
            raise ValueError(f"default category {default_category!r} not in {self.categories}")
        self.default_category = default_category
        self._warned_unknown = set()  # utterance ids already reported (once, not every epoch)

    def __call__(self, uid: str, data: Dict[str, object]) -> Dict[str, np.ndarray]:
        if "speech" not in data and "text" not in data:
            # ESPnet's streaming dataset (collect_stats, inference) preprocesses the data of
            # non-iterable types (optional_sound) on their own first: leave that part alone
            return dict(data)
        out = dict(data)
        category = str(out.pop("category", self.default_category)).strip()
        if category not in self.categories:
            raise ValueError(f"{uid}: category {category!r} is not one of {self.categories} (see --categories)")
        out["category"] = np.array([self.categories.index(category)], dtype=np.int64)
        if isinstance(out.get("text"), str):
            unknown = self.text.unknown_tokens(out["text"])
            if unknown and uid not in self._warned_unknown:
                self._warned_unknown.add(uid)
                logging.warning(f"{uid}: characters {unknown} are not in the token list: read as <unk>")
            out["text"] = self.text.text2ids(out["text"])
        for name in ("speech", "speech_tgt"):
            if name in out and np.asarray(out[name]).ndim != 1:
                raise ValueError(f"{uid}: {name} must be mono, got shape {np.asarray(out[name]).shape}")
        if category_task(category) == "vc":
            if self.train and len(out.get("speech_tgt", ())) == 0:
                raise ValueError(f"{uid}: a VC utterance needs its target speech (speech_tgt)")
        else:
            out.pop("speech_tgt", None)  # only VC reads a second waveform
        return out


class STTATTSCollateFn:
    """Collate utterances of different tasks: keys some utterances lack are filled (zero-length
    sequences; zero vectors for per-utterance vectors), then ESPnet's ``common_collate_fn`` pads
    (floats with 0, ints with -1) and adds ``<name>_lengths`` for sequences."""

    def __init__(self, not_sequence: Sequence[str] = NOT_SEQUENCE, float_pad_value: float = 0.0, int_pad_value: int = -1):
        self.not_sequence = tuple(not_sequence)
        self.float_pad_value = float_pad_value
        self.int_pad_value = int_pad_value

    def __call__(self, data: Sequence[Tuple[str, Dict[str, np.ndarray]]]):
        keys = set().union(*(d.keys() for _, d in data))
        filled = []
        for uid, d in data:
            d = dict(d)
            for k in keys - d.keys():
                example = next(x[k] for _, x in data if k in x)
                if k in self.not_sequence:
                    d[k] = np.zeros_like(example)
                else:
                    d[k] = np.zeros((0,) + example.shape[1:], dtype=example.dtype)
            filled.append((uid, d))
        return common_collate_fn(filled, self.float_pad_value, self.int_pad_value, self.not_sequence)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(not_sequence={self.not_sequence})"


# Data types whose file is an utterance-keyed list (``<utt> <value>`` lines); optional_sound lists
# only some utterances by design.
KEYED_TYPES = ("sound", "text", "kaldi_ark", "npy", "text_int", "text_float", "csv_int", "csv_float")


class DataKeyError(ValueError):
    """A data file lacks utterances that training or inference will read (names file and ids)."""


def read_keys(path) -> List[str]:
    """Utterance ids (first column) of a Kaldi-style list: scp, text, shape or key file."""
    with open(path, encoding="utf-8") as f:
        return [line.split(maxsplit=1)[0] for line in f if line.strip()]


def _speakers_beside(path) -> Dict[str, str]:
    """{utt: speaker} from the ``utt2spk`` in the folder of ``path`` (empty if there is none)."""
    utt2spk = Path(path).parent / "utt2spk"
    if not utt2spk.is_file():
        return {}
    rows = (line.split(maxsplit=1) for line in utt2spk.read_text(encoding="utf-8").splitlines())
    return {row[0]: row[1].strip() for row in rows if len(row) == 2}


def check_data_keys(data_path_and_name_and_type, keys: Iterable[str] = None) -> None:
    """Every utterance in ``keys`` (default: the first file's) must be in every keyed data file.

    ESPnet finds a missing entry only when it loads that utterance (a KeyError mid-epoch, or
    "Keys are mismatched" in streaming mode); this names the file, the utterances and, when a
    ``utt2spk`` sits beside the file, their speakers (e.g. a speaker without an embedding).
    """
    entries = [(str(p), n, t) for p, n, t in data_path_and_name_and_type if t in KEYED_TYPES]
    keys = list(keys) if keys is not None else (read_keys(entries[0][0]) if entries else [])
    for path, name, kind in entries:
        have = set(read_keys(path))
        missing = [k for k in keys if k not in have]
        if not missing:
            continue
        speakers = _speakers_beside(path)
        shown = ", ".join(f"{k} (speaker {speakers[k]})" if k in speakers else k for k in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise DataKeyError(f"{path} ({name}) has no entry for {len(missing)} utterance(s): {shown}{more}")


class _OptionalKeys(collections.abc.Mapping):
    """A loader that answers keys it lacks with an empty float32 array."""

    def __init__(self, loader):
        self.loader = loader
        self._keys = set(loader.keys())

    def __getitem__(self, key):
        return self.loader[key] if key in self._keys else np.zeros(0, dtype=np.float32)

    def __iter__(self):
        return iter(self.loader)

    def __len__(self):
        return len(self.loader)

    def keys(self):
        return self.loader.keys()


def optional_sound_loader(path, float_dtype=None, allow_multi_rates=False):
    return _OptionalKeys(espnet_dataset.sound_loader(path, float_dtype, allow_multi_rates=allow_multi_rates))


def register_optional_sound() -> None:
    """Add ``optional_sound`` to ESPnet's data types (idempotent)."""
    espnet_dataset.DATA_TYPES.setdefault(
        "optional_sound",
        dict(
            func=optional_sound_loader,
            kwargs=["float_dtype", "allow_multi_rates"],
            help="Like 'sound', but utterances missing from the scp get an empty waveform "
            "(e.g. tgt_wav.scp listing only the VC utterances of a mixed data dir).\n\n"
            "   utterance_id_a a.wav\n",
        ),
    )
