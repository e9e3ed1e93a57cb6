"""Speech2Text / Text2Speech / Speech2Speech and the batch-decoding CLI on a tiny random model."""
import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet_ext.bin import sttatts_inference as inf

HOP = 256


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tiny_sttatts):
    return tiny_sttatts.write(tmp_path_factory.mktemp("sttatts_model"))


@pytest.fixture(scope="module")
def wav():
    return (0.1 * np.random.default_rng(0).standard_normal(12000)).astype(np.float32)


def _s2t(model_dir, **kwargs):
    return inf.Speech2Text(model_dir / "config.yaml", model_dir / "model.pth", **kwargs)


def test_beam_search_returns_an_nbest_list_of_text_tokens_ids_and_hypotheses(model_dir, wav, tiny_sttatts):
    s2t = _s2t(model_dir, beam_size=4, ctc_weight=0.5, nbest=3)
    results = s2t(wav)
    assert len(results) == 3
    scores = [float(hyp.score) for _, _, _, hyp in results]
    assert scores == sorted(scores, reverse=True)
    forbidden = set(inf.never_output_ids(s2t.model))
    for text, tokens, ids, hyp in results:
        assert ids == [int(i) for i in hyp.yseq[1:-1]] and int(hyp.yseq[0]) == int(hyp.yseq[-1]) == 2
        assert tokens == [tiny_sttatts.tokens[i] for i in ids] and text == s2t.converter.ids2text(ids)
        assert not forbidden & set(ids)


@pytest.mark.parametrize("ctc_weight", [0.0, 1.0])
def test_decoder_only_and_ctc_only_beam_search_run(model_dir, wav, ctc_weight, tiny_sttatts):
    results = _s2t(model_dir, beam_size=3, ctc_weight=ctc_weight)(wav)
    assert len(results) == 1 and not set(results[0][2]) & {0, 1, len(tiny_sttatts.tokens) - 1}


def test_beam_one_without_ctc_equals_greedy_decoding(model_dir, wav):
    s2t = _s2t(model_dir, beam_size=1, ctc_weight=0.0)
    assert s2t.greedy
    greedy = s2t(wav)[0]  # plain argmax, as transformers' generate
    s2t.greedy, s2t.beam_search = False, s2t._beam_search()
    s2t.beam_search.full_scorers["decoder"].forbidden = []  # the beam search also bars specials: not here
    beam = s2t(wav)[0]
    assert beam[2] == greedy[2]
    assert float(beam[3].score) == pytest.approx(float(greedy[3].score), abs=1e-3)


def test_the_cached_decoder_scorer_equals_full_recomputation(model_dir, wav):
    s2t = _s2t(model_dir)
    model = s2t.model
    scorer = inf.TextDecoderScorer(model)
    with torch.no_grad():
        enc, pad_mask, memory = model.encode("asr", torch.from_numpy(wav)[None], torch.tensor([len(wav)]))
        ys = torch.tensor([[2]])
        logp, states = scorer.batch_score(ys, [None], enc)
        prefixes = torch.tensor([[2, 5, 9, 11], [2, 7, 30, 4], [2, 5, 9, 12]])  # 3 hypotheses, rows 0 / 0 / 0
        states = [states[0]] * 3
        for step in range(1, 4):
            logp, states = scorer.batch_score(prefixes[:, : step + 1], states, enc.expand(3, -1, -1))
        full, _, _ = model.decode_text(prefixes, memory.expand(3, -1, -1), pad_mask.expand(3, -1))
        expected = torch.log_softmax(full[:, -1], -1)
        expected[:, scorer.forbidden] = inf.LOGZERO
    assert float((logp - expected).abs().max()) < 1e-4


def test_ctc_view_puts_speecht5s_blank_at_id_zero(model_dir):
    model = _s2t(model_dir).model
    blank = model.specials["blank"]
    view = inf.BlankFirstCTC(model.ctc, blank, inf.never_output_ids(model))
    x = torch.randn(1, 5, 32)
    lp, orig = view.log_softmax(x), model.ctc.log_softmax(x)
    assert torch.equal(lp[..., 0], orig[..., blank])
    assert torch.equal(lp[..., 10], orig[..., 10])
    assert bool((lp[..., [blank, 1]] == inf.LOGZERO).all())  # the moved <s> and <pad>: impossible


def _tts(model_dir, **kwargs):
    kwargs.setdefault("use_prenet_dropout", False)
    return inf.Text2Speech(model_dir / "config.yaml", model_dir / "model.pth", **kwargs)


def _set_stop(model, bias):
    with torch.no_grad():
        model.backbone.speech_decoder_postnet.prob_out.weight.zero_()
        model.backbone.speech_decoder_postnet.prob_out.bias.copy_(torch.tensor(bias))


def test_text2speech_uses_given_token_ids_exactly_and_appends_eos_to_text(model_dir, monkeypatch, tiny_sttatts):
    tts = _tts(model_dir, maxlenratio=2.0)
    seen = []
    original = tts.model.encode
    monkeypatch.setattr(tts.model, "encode", lambda task, *a, **k: seen.append((task, k["tokens"][0].tolist())) or original(task, *a, **k))
    tts([5, 6, 7], spembs=np.ones(8, np.float32))
    tts("ab", spembs=np.ones(8, np.float32))
    assert seen == [("tts", [5, 6, 7]), ("tts", [tiny_sttatts.tokens.index("a"), tiny_sttatts.tokens.index("b"), 2])]


def test_text2speech_outputs_and_postnet_once_at_the_end(model_dir):
    tts = _tts(model_dir, maxlenratio=4.0)
    _set_stop(tts.model, [-9.0, -9.0])  # never stops: runs maxlen = int(4 * 4.0 / 2) = 8 steps
    out = tts([5, 6, 7, 2], spembs=np.ones(8, np.float32))
    assert tuple(out["feat_gen"].shape) == (16, 80) and tuple(out["prob"].shape) == (16,)
    assert tuple(out["att_w"].shape) == (2, 2, 8, 4)  # (layers, heads, steps, input tokens)
    with torch.no_grad():
        refined = tts.model.postnet(out["feat_gen_before"][None])[0]
    assert torch.equal(out["feat_gen"], refined)
    assert out["wav"].numel() == 16 * HOP  # Griffin-Lim without a vocoder file


def test_generation_stops_when_any_of_the_r_stop_probabilities_passes_the_threshold(model_dir):
    tts = _tts(model_dir, threshold=0.6, maxlenratio=4.0)
    _set_stop(tts.model, [0.0, 0.0])  # 0.5 and 0.5: their sum passes 0.6, neither does
    assert tts([5, 6, 7, 2], spembs=np.ones(8, np.float32))["feat_gen"].shape[0] == 16
    _set_stop(tts.model, [2.0, -9.0])  # 0.88 and ~0: one passes
    assert tts([5, 6, 7, 2], spembs=np.ones(8, np.float32))["feat_gen"].shape[0] == 2


def test_minlenratio_delays_the_stop(model_dir):
    tts = _tts(model_dir, minlenratio=1.0, maxlenratio=4.0)
    _set_stop(tts.model, [9.0, 9.0])
    assert tts([5, 6, 7, 2], spembs=np.ones(8, np.float32))["feat_gen"].shape[0] == 2 * 2  # minlen = int(4 * 1 / 2)


def test_speech2speech_converts_a_waveform_with_the_vc_task(model_dir, wav, monkeypatch):
    vc = inf.Speech2Speech(model_dir / "config.yaml", model_dir / "model.pth", maxlenratio=0.5, use_prenet_dropout=False)
    tasks = []
    original = vc.model.encode
    monkeypatch.setattr(vc.model, "encode", lambda task, *a, **k: tasks.append(task) or original(task, *a, **k))
    _set_stop(vc.model, [-9.0, -9.0])
    out = vc(wav, spembs=np.ones(8, np.float32))
    frames = 12000 // 320  # encoder frames
    assert tasks == ["vc"] and out["feat_gen"].shape == (int(frames * 0.5 / 2) * 2, 80)


def test_y_decoder_synthesizes_with_its_speech_decoder(tmp_path, monkeypatch, tiny_sttatts):
    root = tiny_sttatts.write(tmp_path, y_decoder=True)
    tts = inf.Text2Speech(root / "config.yaml", root / "model.pth", maxlenratio=2.0, use_prenet_dropout=False)
    calls = []
    for name, decoder in (("speech", tts.model.speech_decoder), ("text", tts.model.backbone.decoder)):
        original = decoder.forward
        monkeypatch.setattr(decoder, "forward", lambda *a, _o=original, _n=name, **k: calls.append(_n) or _o(*a, **k))
    _set_stop(tts.model, [-9.0, -9.0])
    assert tts([5, 6, 2], spembs=np.ones(8, np.float32))["feat_gen"].shape == (6, 80)
    assert set(calls) == {"speech"} and len(calls) == 3


def test_from_pretrained_unpacks_a_model_zoo_zip(model_dir, wav, tmp_path, monkeypatch):
    from espnet_ext.zoo import pack_model

    monkeypatch.chdir(model_dir)
    zip_path = pack_model(tmp_path / "model.zip", files={"model_file": "model.pth"}, yaml_files={"train_config": "config.yaml"})
    packed = inf.Speech2Text.from_pretrained(model_tag=str(zip_path), cachedir=tmp_path / "cache", beam_size=2)
    assert packed(wav)[0][2] == _s2t(model_dir, beam_size=2)(wav)[0][2]


def _data_dir(root):
    root.mkdir()
    rng = np.random.default_rng(1)
    rows = {"wav.scp": [], "text": [], "spk.scp": []}
    import kaldiio

    with kaldiio.WriteHelper(f"ark,scp:{root / 'spk.ark'},{root / 'spk.scp'}") as w:
        for uid, text in (("a1", "hello"), ("a2", "ab cd")):
            sf.write(root / f"{uid}.wav", (0.1 * rng.standard_normal(8000)).astype(np.float32), 16000)
            rows["wav.scp"].append(f"{uid} {root / uid}.wav")
            rows["text"].append(f"{uid} {text}")
            w[uid] = rng.standard_normal(8).astype(np.float32)
    for name in ("wav.scp", "text"):
        (root / name).write_text("".join(r + "\n" for r in rows[name]))
    return root


def test_cli_decodes_a_data_dir_for_each_task(model_dir, tmp_path):
    data = _data_dir(tmp_path / "data")
    model = ["--train_config", str(model_dir / "config.yaml"), "--model_file", str(model_dir / "model.pth")]
    decode_conf = tmp_path / "decode.yaml"
    decode_conf.write_text(yaml.safe_dump({"beam_size": 2, "ctc_weight": 0.3, "use_prenet_dropout": False}))
    inf.main(["--task", "asr", "--output_dir", str(tmp_path / "asr"), "--config", str(decode_conf), *model,
              "--data_path_and_name_and_type", f"{data}/wav.scp,speech,sound"])
    text = (tmp_path / "asr" / "1best_recog" / "text").read_text().splitlines()
    assert [line.split(" ", 1)[0] for line in text] == ["a1", "a2"]
    assert (tmp_path / "asr" / "1best_recog" / "token_int").is_file()
    for task, data_args in (
        ("tts", [f"{data}/text,text,text", f"{data}/spk.scp,spembs,kaldi_ark"]),
        ("vc", [f"{data}/wav.scp,speech,sound", f"{data}/spk.scp,spembs,kaldi_ark"]),
    ):
        out = tmp_path / task
        args = ["--task", task, "--output_dir", str(out), "--maxlenratio", "1.0", *model]
        for d in data_args:
            args += ["--data_path_and_name_and_type", d]
        inf.main(args)
        shapes = dict(line.split() for line in (out / "speech_shape").read_text().splitlines())
        assert sorted(shapes) == ["a1", "a2"]
        for uid in ("a1", "a2"):
            frames = int(shapes[uid].split(",")[0])
            assert sf.info(out / "wav" / f"{uid}.wav").frames == frames * HOP
        assert (out / "feats.scp").is_file() and len((out / "wav.scp").read_text().splitlines()) == 2
