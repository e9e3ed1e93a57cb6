"""ESPnetDMelLM: the loss is the cross-entropy of the target modality only (checked against a
sequence built by hand), jobs, joint weighting, training-time masking, and overfitting."""
import pytest
import torch
import torch.nn.functional as F

from espnet_ext.dmel.tokenizer import DMelTokenizer


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    speech = torch.randint(0, 16, (2, 5, 80), generator=g).float()
    speech_lengths = torch.tensor([5, 3])
    text = torch.tensor([[5, 6, 7], [8, 9, -1]])
    text_lengths = torch.tensor([3, 2])
    spembs = torch.randn(2, 8, generator=g)
    return speech, speech_lengths, text, text_lengths, spembs


def by_hand(model, b, job):
    """(CE sum over the target tokens of sample b, their count), from a sequence built by hand."""
    speech, n_s, text, n_t, spk = batch()
    lm, tok = model.lm, model.tokenizer
    frames = speech[b, : n_s[b]].long()
    sp = torch.cat([torch.full((1, 80), tok.bos_id), frames, torch.full((1, 80), tok.eos_id)])
    bos, eos = model.token_list.index("<s>"), model.token_list.index("</s>")
    tx = torch.cat([torch.tensor([bos]), text[b, : n_t[b]], torch.tensor([eos])])
    e_sp, e_tx = lm.embed_speech(sp[None])[0], lm.embed_text(tx[None])[0]
    if job == "tts":
        seq = torch.cat([lm.embed_speaker(spk[b : b + 1])[0], e_tx, e_sp])
        h = lm(seq[None])[0]
        first = 1 + len(tx)  # position of <BOS>; frames 1.. are predicted from first, first + 1, ...
        logits = lm.speech_logits(h[first : first + len(sp) - 1])
        return F.cross_entropy(logits.flatten(0, 1), sp[1:].flatten(), reduction="sum"), (len(sp) - 1) * 80
    seq = torch.cat([e_sp, e_tx])
    h = lm(seq[None])[0]
    first = len(sp)
    logits = lm.text_logits(h[first : first + len(tx) - 1])
    return F.cross_entropy(logits, tx[1:], reduction="sum"), len(tx) - 1


@pytest.mark.parametrize("job", ["asr", "tts"])
def test_loss_is_cross_entropy_of_the_target_modality_only(tiny_model, job):
    model = tiny_model(job).eval()
    loss, stats, weight = model(*batch()[:4], spembs=batch()[4])
    parts = [by_hand(model, b, job) for b in range(2)]
    expected = sum(p[0] for p in parts) / sum(p[1] for p in parts)
    torch.testing.assert_close(loss.squeeze(), expected, rtol=1e-5, atol=1e-5)  # ESPnet shape (1,)
    other = "tts" if job == "asr" else "asr"
    assert stats[f"loss_{other}"] is None and weight == 2


def test_joint_evaluation_scores_every_sample_as_both_jobs_weighted_by_asr_ratio(tiny_model):
    joint = tiny_model("joint", asr_ratio=0.3).eval()
    _, stats, _ = joint(*batch()[:4], spembs=batch()[4])
    asr = tiny_model("asr").eval()
    tts = tiny_model("tts").eval()
    for m in (asr, tts):
        m.load_state_dict(joint.state_dict())
    loss_asr = asr(*batch()[:4])[0]
    loss_tts = tts(*batch()[:4], spembs=batch()[4])[0]
    torch.testing.assert_close(stats["loss"], 0.3 * loss_asr + 0.7 * loss_tts)


def test_joint_training_mixes_jobs_per_sample(tiny_model):
    model = tiny_model("joint", asr_ratio=0.5, span_mask=False, specaug=False).train()
    torch.manual_seed(0)
    seen = set()
    for _ in range(20):
        _, stats, _ = model(*batch()[:4], spembs=batch()[4])
        seen.add((stats["loss_asr"] is not None, stats["loss_tts"] is not None))
    assert {(True, False), (False, True), (True, True)} <= seen


def test_raw_waveform_input_equals_precomputed_tokens(tiny_model, two_utterances):
    waves, _, text, text_lengths, spk = two_utterances
    model = tiny_model("tts").eval()
    wav = torch.nn.utils.rnn.pad_sequence(waves, batch_first=True)
    wav_lengths = torch.tensor([len(w) for w in waves])
    tokens, n = DMelTokenizer().encode(wav, wav_lengths)
    from_wav = model(wav, wav_lengths, text, text_lengths, spembs=spk)[0]
    from_tokens = model(tokens.float(), n, text, text_lengths, spembs=spk)[0]
    torch.testing.assert_close(from_wav, from_tokens)


def test_tts_without_speaker_embeddings_is_an_error(tiny_model):
    with pytest.raises(ValueError, match="spembs"):
        tiny_model("tts")(*batch()[:4])


def test_masking_applies_in_training_only(tiny_model):
    model = tiny_model("asr", span_mask_conf=dict(p=1.0))
    model.eval()
    a, b = model(*batch()[:4])[0], model(*batch()[:4])[0]
    assert torch.equal(a, b)
    model.train()
    torch.manual_seed(0)
    c = model(*batch()[:4])[0]
    assert not torch.allclose(a, c)  # dropout is 0: only the masks differ


def train(model, data, steps, lr=3e-3):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        loss, stats, _ = model(*data)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(stats)
    return losses


@pytest.fixture(scope="module")
def token_data(two_utterances):
    waves, texts, text, text_lengths, spk = two_utterances
    wav = torch.nn.utils.rnn.pad_sequence(waves, batch_first=True)
    tokens, n = DMelTokenizer().encode(wav, torch.tensor([len(w) for w in waves]))
    return (tokens.float(), n, text, text_lengths, spk), texts


def test_tiny_asr_model_overfits_two_utterances_and_transcribes_them(tiny_model, token_data):
    data, texts = token_data
    model = tiny_model("asr", span_mask=False, specaug=False)
    stats = train(model, data, 150)
    assert stats[-1]["loss_asr"] < 0.1 * stats[0]["loss_asr"]
    model.eval()
    for b, text in enumerate(texts):
        hyp = model.recognize(data[0][b, : data[1][b]].long())[0]
        assert "".join(model.token_list[i] for i in hyp.tokens[:-1]).replace("▁", " ") == text


def test_tiny_tts_model_overfits_two_utterances(tiny_model, token_data):
    data, _ = token_data
    model = tiny_model("tts", span_mask=False)
    stats = train(model, data, 60)
    assert stats[-1]["loss_tts"] < 0.5 * stats[0]["loss_tts"]
    assert stats[-1]["acc_tts"] > 0.4


def test_tiny_joint_model_lowers_both_losses(tiny_model, token_data):
    data, _ = token_data
    model = tiny_model("joint", span_mask=False, specaug=False)
    model.eval()
    before = model(*data)[1]
    train(model, data, 150)
    model.eval()
    after = model(*data)[1]
    assert after["loss_asr"] < 0.1 * before["loss_asr"]
    assert after["loss_tts"] < 0.3 * before["loss_tts"]
