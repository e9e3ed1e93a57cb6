"""Numerical parity of the converted backbone with transformers' SpeechT5 (tiny random models, eval mode)."""
import pytest
import torch

from espnet_ext.speecht5.generate import greedy_decode_text, synthesize_speech

TOL = 1e-4


def padded_wavs(lengths, seed=0):
    gen = torch.Generator().manual_seed(seed)
    wav = torch.zeros(len(lengths), max(lengths))
    for i, n in enumerate(lengths):
        wav[i, :n] = torch.randn(n, generator=gen)
    return wav, torch.tensor(lengths)


def padded_tokens(lengths, vocab, pad_id=1, seed=0):
    """Random ids in [3, vocab) (no specials), padded with pad_id."""
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.full((len(lengths), max(lengths)), pad_id)
    for i, n in enumerate(lengths):
        tokens[i, :n] = torch.randint(3, vocab, (n,), generator=gen)
    return tokens, torch.tensor(lengths)


def max_diff_valid(a, b, pad_mask):
    """max |a - b| over non-padded positions."""
    keep = ~pad_mask
    return (a[keep] - b[keep]).abs().max().item()


@pytest.fixture(scope="module")
def speech_batch():
    # different lengths: 6400 samples -> 159 frames, 4100 -> 101 frames (tiny extractor stride 20)
    return padded_wavs([6400, 4100])


@torch.no_grad()
def test_speech_encoder_output_and_frame_mask_equal_transformers(hf_asr, ours_asr, speech_batch):
    hf, _ = hf_asr
    ours, converted = ours_asr
    wav, lengths = speech_batch
    attention_mask = (torch.arange(wav.size(1))[None] < lengths[:, None]).long()
    ref = hf.speecht5.encoder(input_values=wav, attention_mask=attention_mask).last_hidden_state
    ref_mask = ~hf.speecht5.encoder.prenet._get_feature_vector_attention_mask(ref.size(1), attention_mask)

    x, pad_mask = ours.encode_speech(wav, lengths)
    assert converted.config["padding_mask_mode"] == "conv_lengths"
    assert torch.equal(pad_mask, ref_mask)
    assert pad_mask[1].sum() > 0  # the batch really is padded
    assert x.shape == ref.shape
    assert max_diff_valid(x, ref, pad_mask) < TOL


@torch.no_grad()
def test_asr_teacher_forcing_logits_equal_transformers(hf_asr, ours_asr, speech_batch):
    hf, _ = hf_asr
    ours, _ = ours_asr
    wav, lengths = speech_batch
    attention_mask = (torch.arange(wav.size(1))[None] < lengths[:, None]).long()
    prev, prev_lengths = padded_tokens([7, 4], vocab=40, seed=1)
    prev[:, 0] = 2  # decoder start = eos
    ref = hf(input_values=wav, attention_mask=attention_mask, decoder_input_ids=prev).logits

    memory, pad_mask = ours.encode_speech(wav, lengths)
    logits, cross_attn, cache = ours.decode_text(prev, memory, pad_mask)
    target_pad = torch.arange(prev.size(1))[None] >= prev_lengths[:, None]
    assert cache is None
    assert max_diff_valid(logits, ref, target_pad) < TOL
    assert len(cross_attn) == 2 and cross_attn[0].shape == (2, 4, 7, memory.size(1))
    # no attention on padded encoder frames
    assert cross_attn[1][1][..., pad_mask[1]].abs().max() == 0


@torch.no_grad()
def test_asr_greedy_hypotheses_equal_transformers(hf_asr, ours_asr, speech_batch):
    hf, _ = hf_asr
    ours, _ = ours_asr
    wav, lengths = speech_batch
    attention_mask = (torch.arange(wav.size(1))[None] < lengths[:, None]).long()
    ref = hf.generate(input_values=wav, attention_mask=attention_mask, max_new_tokens=12, num_beams=1, do_sample=False)

    memory, pad_mask = ours.encode_speech(wav, lengths)
    hyp = greedy_decode_text(ours, memory, pad_mask, max_new_tokens=12)
    assert hyp.shape == ref.shape
    assert torch.equal(hyp, ref)
    # not degenerate: one hypothesis runs to max_new_tokens, the other ends with eos after several
    # tokens and is padded after it
    ended = (hyp[:, 1:] == 2).any(1)
    assert ended.tolist() == [False, True]
    eos_at = int((hyp[1] == 2).nonzero()[1])
    assert eos_at > 3 and (hyp[1, eos_at + 1 :] == 1).all()
    assert len(set(hyp[:, 1:].flatten().tolist()) - {1, 2}) >= 2


@pytest.fixture(scope="module")
def text_batch():
    return padded_tokens([11, 7], vocab=40, seed=2)


@torch.no_grad()
def test_text_encoder_and_tts_teacher_forcing_equal_transformers(hf_tts, ours_tts, text_batch):
    hf, _ = hf_tts
    ours, _ = ours_tts
    tokens, lengths = text_batch
    attention_mask = (tokens != 1).long()
    gen = torch.Generator().manual_seed(4)
    spembs = torch.randn(2, 16, generator=gen)
    prev_mel = torch.randn(2, 9, 80, generator=gen)
    prev_mel[:, 0] = 0
    out = hf.speecht5(
        input_values=tokens, attention_mask=attention_mask, decoder_input_values=prev_mel, speaker_embeddings=spembs
    )
    ref_before, ref_after, ref_stop = hf.speech_decoder_postnet(out.last_hidden_state)

    memory, pad_mask = ours.encode_text(tokens, lengths)
    assert max_diff_valid(memory, out.encoder_last_hidden_state, pad_mask) < TOL
    before, after, stop, cross_attn, _ = ours.decode_speech(prev_mel, spembs, memory, pad_mask)
    assert before.shape == (2, 18, 80) and stop.shape == (2, 18)
    assert (before - ref_before).abs().max() < TOL
    assert (after - ref_after).abs().max() < TOL
    assert (stop - ref_stop).abs().max() < TOL


@torch.no_grad()
def test_tts_generation_equals_transformers_generate_speech(hf_tts, ours_tts, text_batch):
    hf, _ = hf_tts
    ours, _ = ours_tts
    tokens, lengths = text_batch
    spembs = torch.randn(2, 16, generator=torch.Generator().manual_seed(5))
    ref, ref_lengths = hf.generate_speech(
        tokens, spembs, attention_mask=(tokens != 1).long(), threshold=0.5, maxlenratio=20.0, return_output_lengths=True
    )

    memory, pad_mask = ours.encode_text(tokens, lengths)
    outs = synthesize_speech(ours, memory, pad_mask, spembs, threshold=0.5, maxlenratio=20.0, stop_rule="sum")
    got_lengths = [o["feat_after"].size(0) for o in outs]
    assert got_lengths == list(ref_lengths)
    assert len(set(got_lengths)) == 2 and min(got_lengths) > 2  # stops at different, non-trivial steps
    for i, o in enumerate(outs):
        assert (o["feat_after"] - ref[i, : got_lengths[i]]).abs().max() < TOL
