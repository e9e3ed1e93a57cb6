"""Corpus readers, one module per corpus layout: each returns a list of ``Utterance``."""
from espnet_ext.corpora.arabic_speech_corpus import prepare_arabic_speech_corpus
from espnet_ext.corpora.cmu_arctic import make_vc_pairs, prepare_cmu_arctic
from espnet_ext.corpora.librispeech import prepare_librispeech
from espnet_ext.corpora.libritts import prepare_libritts
from espnet_ext.corpora.ljspeech import prepare_ljspeech
from espnet_ext.corpora.utterance import CorpusLayoutError, Utterance

__all__ = [
    "CorpusLayoutError",
    "Utterance",
    "make_vc_pairs",
    "prepare_arabic_speech_corpus",
    "prepare_cmu_arctic",
    "prepare_librispeech",
    "prepare_libritts",
    "prepare_ljspeech",
]
