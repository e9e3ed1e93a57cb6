"""Training phases: freezing by name patterns, data categories per phase, switch at an update count."""
import math

import pytest
import torch

from sttatts_tiny import UTTERANCES, build_tiny, make_batch
from espnet_ext.sttatts.phases import PhaseSchedule, frozen_names

ASR_FIRST = [
    {"until_update": 2, "categories": ["asr"], "freeze": []},
    {"categories": ["tts"], "freeze": ["backbone.encoder.*", "backbone.decoder.*"]},
]


def _snapshot(model, prefix):
    return {n: p.detach().clone() for n, p in model.named_parameters() if n.startswith(prefix)}


def _step(model, optim, batch):
    loss, stats, _ = model(**batch)
    optim.zero_grad(set_to_none=True)
    loss.backward()
    optim.step()
    return {k: float(v) for k, v in stats.items()}


def test_schedule_picks_the_phase_by_update_count_and_validates_its_input():
    sched = PhaseSchedule(ASR_FIRST, ["asr", "tts", "vc"])
    assert [sched.index_at(u) for u in (0, 1, 2, 50)] == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="until_update"):
        PhaseSchedule([{"categories": ["asr"]}, {"categories": ["tts"]}], ["asr", "tts"])
    with pytest.raises(ValueError, match="increase"):
        PhaseSchedule([{"until_update": 5}, {"until_update": 3}, {}], ["asr"])
    with pytest.raises(ValueError, match="category"):
        PhaseSchedule([{"categories": ["asr:other"]}], ["asr", "tts"])
    with pytest.raises(ValueError, match="unknown phase keys"):
        PhaseSchedule([{"freez": ["x"]}], ["asr"])


def test_patterns_match_parameter_names_with_fnmatch():
    names = ["backbone.encoder.layers.0.fc1.weight", "backbone.decoder.layers.0.fc1.weight", "ctc.ctc_lo.weight"]
    assert frozen_names(names, ["backbone.encoder.*"]) == names[:1]
    assert frozen_names(names, ["*.fc1.weight"]) == names[:2]


def test_asr_first_then_tts_with_encoder_and_decoder_frozen():
    model, args = build_tiny(model_conf={"phases": ASR_FIRST})
    model.train()
    optim = torch.optim.Adam(model.parameters(), lr=1e-2)
    batch = make_batch(args)

    enc0, dec0 = _snapshot(model, "backbone.encoder."), _snapshot(model, "backbone.decoder.")
    postnet0 = _snapshot(model, "backbone.speech_decoder_postnet.feat_out")
    stats = _step(model, optim, batch)  # update 0: phase 0, ASR utterances only, nothing frozen
    assert math.isfinite(stats["asr_loss"]) and math.isnan(stats["tts_loss"]) and math.isnan(stats["vc_loss"])
    assert stats["phase"] == 0
    assert all(not torch.equal(p, enc0[n]) for n, p in _snapshot(model, "backbone.encoder.layers.0.fc1").items())
    # the speech post-net had no ASR gradient: untouched
    assert all(torch.equal(p, postnet0[n]) for n, p in _snapshot(model, "backbone.speech_decoder_postnet.feat_out").items())

    _step(model, optim, batch)  # update 1: still phase 0
    enc2, dec2 = _snapshot(model, "backbone.encoder."), _snapshot(model, "backbone.decoder.")
    stats = _step(model, optim, batch)  # update 2: phase 1, TTS only, encoder + decoder frozen
    assert stats["phase"] == 1
    assert math.isnan(stats["asr_loss"]) and math.isfinite(stats["tts_loss"])
    for n, p in model.named_parameters():
        if n.startswith(("backbone.encoder.", "backbone.decoder.")):
            assert not p.requires_grad and p.grad is None, n
            assert torch.equal(p, enc2.get(n, dec2.get(n))), n
    assert all(not torch.equal(p, postnet0[n]) for n, p in _snapshot(model, "backbone.speech_decoder_postnet.feat_out").items())
    assert dec0 and enc0  # snapshots were taken


def test_updates_count_forwards_divided_by_accum_grad_and_the_counter_is_saved():
    model, args = build_tiny(model_conf={"phases": ASR_FIRST})
    model.accum_grad = 2
    model.train()
    batch = make_batch(args, [u for u in UTTERANCES if u[0] == "asr"])
    phases = []
    for _ in range(6):
        _, stats, _ = model(**batch)
        phases.append(int(stats["phase"]))
    assert phases == [0, 0, 0, 0, 1, 1]  # updates 0,0,1,1,2,2
    assert int(model.state_dict()["phase_forward_steps"]) == 6  # --resume continues the schedule


def test_validation_scores_every_category_and_does_not_advance_the_schedule():
    model, args = build_tiny(model_conf={"phases": ASR_FIRST})
    with torch.no_grad():
        _, stats, _ = model.eval()(**make_batch(args))
    assert math.isfinite(stats["tts_loss"]) and math.isfinite(stats["asr_loss"])
    assert int(model.phase_forward_steps) == 0


def test_freezing_keeps_parameters_frozen_before_the_first_phase():
    model, args = build_tiny(model_conf={"phases": ASR_FIRST})
    model.ctc.ctc_lo.weight.requires_grad = False  # as ESPnet's --freeze_param does
    model.train()(**make_batch(args))
    assert not model.ctc.ctc_lo.weight.requires_grad
    assert model.backbone.encoder.layers[0].fc1.weight.requires_grad


def test_warm_fine_tuning_switches_the_asr_data_set_at_an_update_count():
    categories = ["asr", "tts", "vc", "asr:warm"]
    phases = [{"until_update": 1, "categories": ["asr:warm", "tts"]}, {"categories": ["asr", "tts"]}]
    no_dropout = {k: 0.0 for k in ("dropout", "attention_dropout", "activation_dropout", "positional_dropout", "feat_proj_dropout")}
    model, args = build_tiny(backbone=no_dropout, model_conf={"phases": phases}, categories=categories)
    warm = [("asr:warm", "hello world", 0.8, 0.0)]
    main = [("asr", "xyz", 0.8, 0.0)]
    mixed = make_batch(args, warm + main)
    reference, _ = build_tiny(backbone=no_dropout, model_conf={"phases": phases}, categories=categories)

    def asr_loss(utts):  # the same weights in eval mode on one subset
        with torch.no_grad():
            _, stats, _ = reference(**make_batch(args, utts))
        return float(stats["asr_loss"])

    model.train()  # training mode (the schedule runs) without randomness (no dropout, no masking)
    with torch.no_grad():
        _, first, _ = model(**mixed)  # update 0: only the warm-up set trains
        _, second, _ = model(**mixed)  # update 1: only the main set
    assert float(first["asr_loss"]) == pytest.approx(asr_loss(warm), rel=1e-4)
    assert float(second["asr_loss"]) == pytest.approx(asr_loss(main), rel=1e-4)


def test_a_batch_without_active_utterances_gives_a_zero_loss_that_backpropagates():
    phases = [{"until_update": 10, "categories": ["vc"]}, {}]
    model, args = build_tiny(model_conf={"phases": phases})
    loss, stats, weight = model.train()(**make_batch(args, [u for u in UTTERANCES if u[0] == "asr"]))
    loss.sum().backward()
    assert float(loss) == 0.0 and int(weight) == 1
