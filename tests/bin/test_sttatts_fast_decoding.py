"""Faster decoding options (issue 18). CTC-drafted greedy decoding (Speech2Text ctc_draft=True) gives
plain greedy decoding's hypotheses, on random weights and on a tiny model fitted for a few hundred
steps to espeak-ng utterances; int8 decoder linears (quantize="int8") keep that model's transcripts."""
import numpy as np
import pytest
import torch
from espnet2.utils.yaml_no_alias_safe_dump import yaml_no_alias_safe_dump

from espnet_ext.bin import sttatts_inference as inf
from espnet_ext.bin.make_token_list import HEAD, TAIL
from espnet_ext.speecht5.generate import _DraftPointer, ctc_greedy_draft
from espnet_ext.tasks.sttatts import STTATTSTask

TOKENS = [*HEAD, *"▁abcdefghijklmnopqrstuvwxyz'", *TAIL]
TINY = dict(
    d_model=32, encoder_layers=2, decoder_layers=2, attention_heads=2, ffn_dim=64, conv_dim=[16, 16, 16],
    conv_kernel=[10, 8, 8], conv_stride=[5, 8, 8], pos_conv_kernel=8, pos_conv_groups=2, max_relative_position=16,
    speech_decoder_prenet_units=16, spk_embed_dim=8, postnet_layers=2, postnet_units=16,
)
TRAIN_TEXTS = ("hello world", "good day", "thank you", "see you later")
UNSEEN_TEXTS = ("hello day", "good world", "thank you later")  # partly recognised: drafts partly wrong
TRAIN_STEPS = 250


def _save(model, args, root):
    torch.save(model.state_dict(), root / "model.pth")
    with open(root / "config.yaml", "w") as f:
        yaml_no_alias_safe_dump(vars(args), f)
    return root


def _args(root):
    args = STTATTSTask.get_parser().parse_args(["--token_list", "t", "--output_dir", str(root)])
    args.token_list = TOKENS
    args.backbone_conf = dict(TINY)
    return args


@pytest.fixture(scope="module")
def random_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("draft_random")
    args = _args(root)
    torch.manual_seed(1)
    model = STTATTSTask.build_model(args)
    with torch.no_grad():  # a confident random CTC head: drafts that are long and mostly wrong
        model.ctc.ctc_lo.weight.mul_(20.0)
    return _save(model, args, root)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, espeak_speech):
    """(model dir, training waveforms, unseen waveforms): ASR fitted for TRAIN_STEPS Adam steps (~8 s)."""
    root = tmp_path_factory.mktemp("draft_trained")
    args = _args(root)
    torch.manual_seed(0)
    model = STTATTSTask.build_model(args)
    pre = STTATTSTask.build_preprocess_fn(args, train=True)
    wavs = [espeak_speech(t) for t in TRAIN_TEXTS]
    items = [(f"u{i}", pre(f"u{i}", {"speech": w, "text": t, "category": "asr"})) for i, (w, t) in
             enumerate(zip(wavs, TRAIN_TEXTS))]
    _, batch = STTATTSTask.build_collate_fn(args, True)(items)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(TRAIN_STEPS):
        loss, _, _ = model(**batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return _save(model, args, root), wavs, [espeak_speech(t) for t in UNSEEN_TEXTS]


def _decode_both(model_dir, wavs, **opts):
    plain = inf.Speech2Text(model_dir / "config.yaml", model_dir / "model.pth", beam_size=1, ctc_weight=0.0, **opts)
    drafted = inf.Speech2Text(
        model_dir / "config.yaml", model_dir / "model.pth", beam_size=1, ctc_weight=0.0, ctc_draft=True, **opts
    )
    assert drafted.ctc_draft and not plain.ctc_draft
    return [plain(w)[0] for w in wavs], drafted.batch(wavs), drafted.draft_stats


def _assert_same_hypotheses(want, got):
    assert [g[0][2] for g in got] == [w[2] for w in want]
    for (_, _, _, h), g in zip(want, got):
        assert torch.equal(g[0][3].yseq, h.yseq)
        assert float(g[0][3].score) == pytest.approx(float(h.score), abs=1e-4)


def test_drafted_greedy_equals_greedy_on_trained_weights(trained):
    model_dir, train_wavs, unseen_wavs = trained
    wavs = train_wavs + unseen_wavs
    want, got, stats = _decode_both(model_dir, wavs)
    _assert_same_hypotheses(want, got)
    texts = [w[0] for w in want]
    assert texts[: len(TRAIN_TEXTS)] == list(TRAIN_TEXTS)  # the fit recognises its training set
    # most labels come from accepted drafts: far fewer decoder passes than tokens
    assert stats["tokens"] == sum(len(w[2]) + 1 for w in want)
    assert stats["accepted"] > 0.6 * stats["tokens"]
    assert stats["passes"] < 0.5 * stats["tokens"]
    assert stats["drafted"] > stats["accepted"]  # some drafts were rejected part-way (unseen texts)


def test_drafted_greedy_equals_greedy_on_random_weights(random_dir):
    rng = np.random.default_rng(5)
    wavs = [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in (12000, 7000, 16000, 4000)]
    want, got, stats = _decode_both(random_dir, wavs, maxlenratio=0.8)
    _assert_same_hypotheses(want, got)
    assert stats["drafted"] > stats["accepted"]  # wrong drafts are rejected, the output stays greedy's
    assert stats["passes"] <= stats["tokens"]  # never more decoder calls than plain greedy


def test_draft_is_the_ctc_best_path_without_repeats_and_blanks():
    best = [0, 5, 5, 0, 5, 7, 7, 0, 0, 3]
    logp = torch.full((len(best), 9), -5.0)
    logp[torch.arange(len(best)), torch.tensor(best)] = -0.1
    assert ctc_greedy_draft(logp, blank_id=0) == [5, 5, 7, 3]


def test_draft_pointer_follows_substitutions_skips_and_insertions():
    p = _DraftPointer([1, 2, 3, 4, 5])
    p.advance(1)
    assert (p.pos, p.synced) == (1, True)
    p.advance(9)  # a substitution of 2: step by step until the decoder meets the draft
    assert (p.pos, p.synced) == (2, False) and p.proposal(eos_id=0, room=9) == []
    p.advance(3)
    assert (p.pos, p.synced) == (3, True) and p.proposal(eos_id=0, room=9) == [4, 5, 0]
    p.advance(5)  # the decoder skipped 4
    assert (p.pos, p.synced) == (5, True) and p.proposal(eos_id=0, room=1) == [0]


def test_int8_decoder_keeps_the_fitted_models_transcripts(trained):
    model_dir, train_wavs, _ = trained
    fp32 = inf.Speech2Text(model_dir / "config.yaml", model_dir / "model.pth", beam_size=3, ctc_weight=0.3)
    int8 = inf.Speech2Text(model_dir / "config.yaml", model_dir / "model.pth", beam_size=3, ctc_weight=0.3,
                           quantize="int8")
    layer = int8.model.backbone.decoder.layers[0]
    assert isinstance(layer.fc1, torch.ao.nn.quantized.dynamic.Linear)
    assert isinstance(layer.self_attn.int8_fused["q_proj_k_proj_v_proj"], torch.ao.nn.quantized.dynamic.Linear)
    assert isinstance(int8.model.backbone.encoder.layers[0].fc1, torch.nn.Linear)  # the encoder stays fp32
    assert [int8(w)[0][0] for w in train_wavs] == [fp32(w)[0][0] for w in train_wavs] == list(TRAIN_TEXTS)
    # the quantized decoder is close, not equal: teacher-forced logits differ a little
    with torch.no_grad():
        _, pad, memory = fp32.model.encode("asr", [torch.from_numpy(train_wavs[0])])
        prev = torch.tensor([[2, 5, 6, 7, 8]])
        a, b = (s.model.decode_text(prev, memory, pad)[0] for s in (fp32, int8))
    assert 0 < float((a - b).abs().max()) < 0.05 * float(a.abs().max())


def test_int8_tts_frames_stay_close_to_fp32(random_dir):
    tts = {q: inf.Text2Speech(random_dir / "config.yaml", random_dir / "model.pth", use_prenet_dropout=False,
                              maxlenratio=4.0, quantize=q) for q in ("none", "int8")}
    for t in tts.values():  # no stop token: both run to the same length
        with torch.no_grad():
            t.model.backbone.speech_decoder_postnet.prob_out.weight.zero_()
            t.model.backbone.speech_decoder_postnet.prob_out.bias.fill_(-9.0)
    spk = np.random.default_rng(0).standard_normal(8).astype(np.float32)
    out = {q: t.batch([[5, 6, 7, 8, 9, 2]], [spk], vocode=False)[0]["feat_gen"] for q, t in tts.items()}
    assert out["int8"].shape == out["none"].shape == (24, 80)  # int(6 * 4.0 / 2) steps of r = 2 frames
    err = float((out["int8"] - out["none"]).abs().mean() / out["none"].abs().mean())
    assert 0 < err < 0.05


def test_quantize_rejects_unknown_choices_and_the_cli_takes_int8(random_dir):
    with pytest.raises(ValueError, match="quantize"):
        inf.Speech2Text(random_dir / "config.yaml", random_dir / "model.pth", quantize="int4")
    args = inf.get_parser().parse_args(["--task", "asr", "--output_dir", "o", "--data_path_and_name_and_type",
                                        "a,speech,sound", "--quantize", "int8", "--ctc_draft", "true"])
    assert args.quantize == "int8" and args.ctc_draft is True
