"""ESPnetSTTATTSModel: mixed-task steps, per-task normalisation, fusion placement, variants."""
import math

import pytest
import torch

from sttatts_tiny import UTTERANCES, build_tiny, make_batch

ASR_ONLY = [u for u in UTTERANCES if u[0] == "asr"]
TTS_ONLY = [u for u in UTTERANCES if u[0] == "tts"]
# equal durations: the speech pre-net's GroupNorm spans the padded time axis (as in SpeechT5), so
# only equal-length utterances give the same encoder output batched and alone
ASR_PAIR = [("asr", "hello world", 0.8, 0.0), ("asr", "xyz", 0.8, 0.0)]


def _loss(model, args, utterances):
    with torch.no_grad():
        loss, stats, weight = model(**make_batch(args, utterances))
    return float(loss), {k: float(v) for k, v in stats.items()}, int(weight)


def test_a_mixed_batch_reports_every_term_of_every_task_and_backpropagates(tiny):
    model, args = tiny
    model.train()
    loss, stats, weight = model(**make_batch(args))
    loss.backward()
    for name in ("asr_loss", "asr_ce", "asr_ctc", "asr_acc", "tts_loss", "tts_l1", "tts_l1_before", "tts_l1_after",
                 "tts_bce", "tts_attn", "vc_loss", "vc_l1", "vc_bce", "vc_attn", "loss"):
        assert math.isfinite(float(stats[name])), name
    assert int(weight) == len(UTTERANCES)
    assert float(stats["loss"]) == pytest.approx(float(stats["asr_loss"] + stats["tts_loss"] + stats["vc_loss"]), rel=1e-5)
    grads = {n: p.grad for n, p in model.named_parameters()}
    for used in ("backbone.speech_encoder_prenet.post_extract_proj.weight", "backbone.text_encoder_prenet.embed_tokens.weight",
                 "backbone.speech_decoder_postnet.feat_out.weight", "ctc.ctc_lo.weight", "task_fusion.proj.weight"):
        assert grads[used] is not None and grads[used].abs().sum() > 0, used


def test_the_batch_loss_is_the_sum_of_per_task_losses_each_normalised_by_its_sample_count():
    model, args = build_tiny()
    total, stats, _ = _loss(model, args, UTTERANCES[:2])  # one ASR + one TTS utterance
    asr, _, _ = _loss(model, args, UTTERANCES[:1])
    tts, _, _ = _loss(model, args, UTTERANCES[1:2])
    assert total == pytest.approx(asr + tts, rel=1e-5)
    # two ASR utterances: the ASR loss is the mean of the two single-utterance losses
    pair, _, _ = _loss(model, args, ASR_PAIR)
    singles = [_loss(model, args, [u])[0] for u in ASR_PAIR]
    assert pair == pytest.approx(sum(singles) / 2, rel=1e-5)


def test_token_normalisation_divides_by_the_target_tokens_instead():
    model, args = build_tiny(model_conf={"asr_normalize": "token"})
    pair, _, _ = _loss(model, args, ASR_PAIR)
    singles = [_loss(model, args, [u])[0] for u in ASR_PAIR]
    tokens = [len(text) + 1 for _, text, _, _ in ASR_PAIR]  # characters + </s>
    assert pair == pytest.approx(sum(s * n for s, n in zip(singles, tokens)) / sum(tokens), rel=1e-5)


def test_tasks_absent_from_a_batch_report_nan_and_do_not_count():
    model, args = build_tiny()
    loss, stats, _ = _loss(model, args, ASR_ONLY)
    assert math.isnan(stats["tts_l1"]) and math.isnan(stats["vc_bce"])
    assert loss == pytest.approx(stats["asr_loss"], rel=1e-6)


def test_ce_and_ctc_weights_scale_their_terms():
    model, args = build_tiny(model_conf={"ce_weight": 0.3, "ctc_weight": 0.7})
    _, stats, _ = _loss(model, args, ASR_ONLY)
    assert stats["asr_loss"] == pytest.approx(0.3 * stats["asr_ce"] + 0.7 * stats["asr_ctc"], rel=1e-5)


def test_identity_fusion_leaves_the_backbones_outputs_unchanged():
    model, args = build_tiny()
    batch = make_batch(args, ASR_ONLY)
    with torch.no_grad():
        enc, pad_mask, memory = model.encode("asr", batch["speech"], batch["speech_lengths"])
        prev = torch.tensor([[2, 10, 11, 12]])
        fused, _, _ = model.decode_text(prev.expand(2, -1), memory, pad_mask)
        plain, _, _ = model.backbone.decode_text(prev.expand(2, -1), *model.backbone.encode_speech(batch["speech"], batch["speech_lengths"]))
    assert torch.equal(memory, enc)
    torch.testing.assert_close(fused, plain, rtol=0, atol=1e-5)


def test_ctc_reads_the_encoder_output_before_fusion():
    model, args = build_tiny()
    _, before, _ = _loss(model, args, ASR_ONLY)
    torch.nn.init.normal_(model.task_fusion.proj.weight, std=0.5)  # fusion now changes the memory
    _, after, _ = _loss(model, args, ASR_ONLY)
    assert after["asr_ctc"] == pytest.approx(before["asr_ctc"], rel=1e-6)
    assert after["asr_ce"] != pytest.approx(before["asr_ce"], rel=1e-3)


def test_fusion_before_the_encoder_conditions_the_encoder_and_so_ctc():
    model, args = build_tiny(task_fusion_conf={"position": "before_encoder", "init": "random"})
    batch = make_batch(args, ASR_ONLY)
    with torch.no_grad():
        enc, pad_mask, memory = model.encode("asr", batch["speech"], batch["speech_lengths"])
        plain, _ = model.backbone.encode_speech(batch["speech"], batch["speech_lengths"])
    assert torch.equal(memory, enc)  # nothing after the encoder
    assert not torch.allclose(enc, plain, atol=1e-3)


# parameters each task's own path goes through, beside the shared encoder and decoder layers
SPEECH_IN, TEXT = "backbone.speech_encoder_prenet.post_extract_proj.weight", "backbone.text_encoder_prenet.embed_tokens.weight"
SPEAKER = "backbone.speech_decoder_prenet.speaker_embeds_layer.weight"
MEL_OUT, STOP_OUT = "backbone.speech_decoder_postnet.feat_out.weight", "backbone.speech_decoder_postnet.prob_out.weight"
TASK_PARAMETERS = {
    "asr": [SPEECH_IN, TEXT, "ctc.ctc_lo.weight"],
    "tts": [TEXT, SPEAKER, MEL_OUT, STOP_OUT],
    "vc": [SPEECH_IN, SPEAKER, MEL_OUT],
}
SHARED_PARAMETERS = ["backbone.encoder.layers.0.fc1.weight", "backbone.decoder.layers.0.fc1.weight"]


@pytest.mark.parametrize("task", sorted(TASK_PARAMETERS))
def test_without_task_fusion_the_model_still_trains_all_tasks(task):
    model, args = build_tiny(task_fusion=None)
    assert model.task_fusion is None
    loss, stats, _ = model.train()(**make_batch(args, [u for u in UTTERANCES if u[0] == task]))
    loss.backward()
    assert float(stats[f"{task}_loss"]) > 0 and float(loss) == pytest.approx(float(stats[f"{task}_loss"]), rel=1e-6)
    params = dict(model.named_parameters())
    for name in TASK_PARAMETERS[task] + SHARED_PARAMETERS:
        assert params[name].grad is not None and params[name].grad.abs().sum() > 0, name


def test_y_decoder_sends_speech_through_its_own_decoder():
    model, args = build_tiny(task_fusion=None, model_conf={"y_decoder": True})
    model.train()
    loss, _, _ = model(**make_batch(args, TTS_ONLY))
    loss.backward()
    assert model.speech_decoder.layers[0].fc1.weight.grad.abs().sum() > 0
    assert model.backbone.decoder.layers[0].fc1.weight.grad is None
    model.zero_grad(set_to_none=True)
    loss, _, _ = model(**make_batch(args, ASR_ONLY))
    loss.backward()
    assert model.speech_decoder.layers[0].fc1.weight.grad is None
    assert model.backbone.decoder.layers[0].fc1.weight.grad.abs().sum() > 0


def test_y_decoder_refuses_task_fusion():
    with pytest.raises(ValueError, match="Y-decoder"):
        build_tiny(model_conf={"y_decoder": True})


def test_speaker_embedding_size_is_configurable():
    from sttatts_tiny import SPK_DIM

    model, _ = build_tiny(backbone={"spk_embed_dim": 256})
    layer = model.backbone.speech_decoder_prenet.speaker_embeds_layer
    assert layer.in_features == 256 + 32 and SPK_DIM != 256


def test_a_non_finite_loss_names_the_batchs_utterances_and_the_one_whose_input_is_not_finite(caplog):
    model, args = build_tiny()
    batch = make_batch(args)
    batch["spembs"][1, 3] = float("nan")  # the first TTS utterance's speaker embedding
    ids = [f"utt{i}" for i in range(len(UTTERANCES))]
    loss, stats, _ = model.train()(**batch, utt_id=ids)
    assert math.isnan(float(loss)) and math.isnan(float(stats["tts_loss"])) and math.isfinite(float(stats["asr_loss"]))
    assert ("Non-finite loss nan (tts_loss nan) in the batch of 5 utterances utt0 utt1 utt2 utt3 utt4; "
            "non-finite input: utt1 (spembs). ESPnet's trainer skips the update of the whole batch") in caplog.text
    caplog.clear()
    model(**make_batch(args), utt_id=ids)  # a clean batch: nothing logged
    assert caplog.text == ""
