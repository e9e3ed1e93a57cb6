"""DMelLM: KV cache == full recomputation, causality, per-channel heads, Table 9 parameter counts."""
from pathlib import Path

import pytest
import torch
import yaml

from espnet_ext.dmel.generation import generate_speech, generate_text
from espnet_ext.dmel.model import DMelLM, DMelLMConfig, count_parameters

CONF = Path(__file__).resolve().parents[2] / "conf"
CHAR_VOCAB = 38  # make_token_list: 4 specials + 32 English characters + <mask>, <ctc_blank>


def tiny(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = dict(text_vocab_size=12, n_layer=2, n_head=2, n_embd=32, channel_embd=4, spk_embed_dim=8, dropout=0.0)
    return DMelLM(DMelLMConfig(**{**cfg, **kw})).eval()


def random_prompt(lm, length=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, length, lm.cfg.n_embd, generator=g)


def test_cached_incremental_forward_equals_full_forward():
    lm = tiny()
    x = torch.randn(2, 11, 32)
    full = lm(x)
    cache = lm.new_cache()
    parts = [lm(x[:, :5], cache), lm(x[:, 5:8], cache)] + [lm(x[:, t : t + 1], cache) for t in range(8, 11)]
    assert cache.length == 11
    torch.testing.assert_close(torch.cat(parts, 1), full, rtol=1e-5, atol=1e-5)


def test_attention_is_causal():
    lm = tiny()
    x = torch.randn(1, 9, 32)
    y = x.clone()
    y[:, 6:] += 1.0
    torch.testing.assert_close(lm(x)[:, :6], lm(y)[:, :6])
    assert not torch.allclose(lm(x)[:, 6:], lm(y)[:, 6:])


def test_positions_are_global_rope_has_no_absolute_embedding():
    """Shifting the whole sequence by a cached prefix changes the outputs (positions matter), but
    a model has no position table: any length runs."""
    lm = tiny()
    x = torch.randn(1, 4, 32)
    cache = lm.new_cache()
    lm(torch.randn(1, 3, 32), cache)
    assert lm(torch.randn(1, 3000, 32)).shape == (1, 3000, 32)
    assert not torch.allclose(lm(x, cache), lm(x))


@pytest.mark.parametrize("beam", [1, 3])
def test_cached_text_generation_equals_full_recomputation(beam):
    lm = tiny(seed=1)
    prompt = random_prompt(lm)
    cached = generate_text(lm, prompt, eos=2, max_len=12, beam_size=beam)
    full = generate_text(lm, prompt, eos=2, max_len=12, beam_size=beam, use_cache=False)
    assert [h.tokens for h in cached] == [h.tokens for h in full]
    assert [h.score for h in cached] == pytest.approx([h.score for h in full], abs=1e-4)


@torch.no_grad()
def test_greedy_is_argmax_and_beam_finds_at_least_the_greedy_score():
    lm = tiny(seed=2)
    prompt = random_prompt(lm, seed=2)
    greedy = generate_text(lm, prompt, eos=2, max_len=8, beam_size=1)[0]
    seq, score = prompt, 0.0
    for tok in greedy.tokens:  # recompute greedily by hand
        logp = lm.text_logits(lm(seq)[:, -1]).log_softmax(-1)[0]
        assert int(logp.argmax()) == tok
        score += float(logp[tok])
        seq = torch.cat([seq, lm.embed_text(torch.tensor([[tok]]))], 1)
    assert greedy.score == pytest.approx(score, abs=1e-4)
    beam = generate_text(lm, prompt, eos=2, max_len=8, beam_size=4)
    assert len(beam) == 4 and beam[0].score >= greedy.score - 1e-5
    assert [h.score for h in beam] == sorted((h.score for h in beam), reverse=True)


@pytest.mark.parametrize("temperature,top_k", [(0.0, 0), (1.0, 0), (0.8, 3)])
def test_cached_speech_generation_equals_full_recomputation(temperature, top_k):
    lm = tiny(seed=3, speech_vocab_size=19)
    prompt = random_prompt(lm, seed=3)
    kw = dict(n_bins=16, eos=18, max_frames=15, temperature=temperature, top_k=top_k, eos_threshold=1.1)
    cached, _ = generate_speech(lm, prompt, generator=torch.Generator().manual_seed(0), **kw)
    full, _ = generate_speech(lm, prompt, generator=torch.Generator().manual_seed(0), use_cache=False, **kw)
    assert cached.shape == (15, 80) and torch.equal(cached, full)
    assert cached.max() < 16  # never a special id inside a frame


def test_top_k_restricts_every_channel_to_its_k_most_likely_bins():
    lm = tiny(seed=4)
    prompt = random_prompt(lm, seed=4)
    frames, _ = generate_speech(lm, prompt, n_bins=16, eos=18, max_frames=1, top_k=2, eos_threshold=1.1,
                                generator=torch.Generator().manual_seed(0))
    top2 = lm.speech_logits(lm(prompt)[:, -1])[0, :, :16].topk(2, -1).indices
    assert (top2 == frames[0][:, None]).any(-1).all()


def test_generation_stops_on_the_eos_frame():
    lm = tiny(seed=5)
    with torch.no_grad():  # make every channel predict eos (id 18) with near certainty
        lm.speech_head.bias.view(80, 19)[:, 18] = 50.0
    frames, ended = generate_speech(lm, random_prompt(lm), n_bins=16, eos=18, max_frames=10)
    assert ended and frames.shape == (0, 80)
    frames, ended = generate_speech(lm, random_prompt(lm), n_bins=16, eos=18, max_frames=10, min_frames=4)
    assert ended and frames.shape == (4, 80)


def test_speech_head_gives_an_independent_softmax_per_channel():
    lm = tiny()
    logits = lm.speech_logits(torch.randn(2, 5, 32))
    assert logits.shape == (2, 5, 80, 19)
    frames = torch.randint(0, 19, (2, 5, 80))
    assert lm.embed_speech(frames).shape == (2, 5, 32)
    assert lm.speech_in.in_features == 80 * 4  # 80 channel embeddings of d = 4, concatenated


PAPER = {"small": 59e6, "base": 258e6, "large": 1.3e9}


@pytest.mark.parametrize("size", ["mini", "small", "base", "large"])
def test_closed_form_count_equals_the_built_model(size):
    lm_conf = yaml.safe_load((CONF / f"dmel_{size}.yaml").read_text())["lm_conf"]
    cfg = DMelLMConfig(text_vocab_size=CHAR_VOCAB, **lm_conf)
    with torch.device("meta"):  # no memory for the weights: the 1.3B model builds instantly
        lm = DMelLM(cfg)
    assert sum(p.numel() for p in lm.parameters()) == count_parameters(cfg)


@pytest.mark.parametrize("size", ["small", "base", "large"])
def test_sizes_match_table_9_within_3_percent(size):
    lm_conf = yaml.safe_load((CONF / f"dmel_{size}.yaml").read_text())["lm_conf"]
    n = count_parameters(DMelLMConfig(text_vocab_size=CHAR_VOCAB, **lm_conf))
    assert abs(n / PAPER[size] - 1) < 0.03
