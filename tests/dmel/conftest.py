"""Tiny dMel models and a two-utterance espeak data set for the dMel tests."""
import pytest
import torch

from espnet_ext.tasks.dmel_lm import build_dmel_model

TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "▁", *"abcdefghijklmnopqrstuvwxyz'", "<mask>", "<ctc_blank>"]
TINY_LM = dict(n_layer=2, n_head=2, n_embd=64, channel_embd=4, spk_embed_dim=8, dropout=0.0)


@pytest.fixture
def tiny_model():
    def build(job="asr", seed=0, **model_conf):
        torch.manual_seed(seed)
        return build_dmel_model(TOKENS, {}, TINY_LM, dict(job=job, **model_conf))

    return build


def text_ids(text):
    return [TOKENS.index("▁" if c == " " else c) for c in text]


@pytest.fixture(scope="session")
def two_utterances(espeak_speech):
    """(waveforms, texts, text ids (2, L) padded -1, text lengths, speaker vectors (2, 8))."""
    texts = ["open the door", "a cat sat"]
    waves = [torch.as_tensor(espeak_speech(t)) for t in texts]
    ids = [text_ids(t) for t in texts]
    L = max(map(len, ids))
    text = torch.tensor([i + [-1] * (L - len(i)) for i in ids])
    spk = torch.randn(2, 8, generator=torch.Generator().manual_seed(0))
    return waves, texts, text, torch.tensor([len(i) for i in ids]), spk
