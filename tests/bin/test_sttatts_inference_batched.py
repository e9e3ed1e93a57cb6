"""Batched decoding (Speech2Text / Text2Speech / Speech2Speech .batch, CLI --batch_size) equals
one-by-one decoding and ESPnet's BatchBeamSearch + CTCPrefixScorer; CLI stop_fired and plot data."""
import numpy as np
import pytest
import soundfile as sf
import torch

from espnet_ext.bin import sttatts_inference as inf

LENGTHS = (12000, 7000, 16000, 4000)  # samples: 37, 21, 49, 12 encoder frames


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tiny_sttatts):
    return tiny_sttatts.write(tmp_path_factory.mktemp("sttatts_batched"))


@pytest.fixture(scope="module")
def wavs():
    rng = np.random.default_rng(3)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in LENGTHS]


def _s2t(model_dir, **kwargs):
    return inf.Speech2Text(model_dir / "config.yaml", model_dir / "model.pth", **kwargs)


def _ids(nbest):
    return [r[2] for r in nbest]


@pytest.mark.parametrize(
    "opts",
    [
        dict(beam_size=4, ctc_weight=0.5, nbest=3),
        dict(beam_size=3, ctc_weight=0.0, nbest=2),
        dict(beam_size=3, ctc_weight=1.0),
        dict(beam_size=5, ctc_weight=0.3, maxlenratio=0.5, minlenratio=0.1),
    ],
)
def test_batched_beam_search_gives_espnets_hypotheses_for_every_utterance(model_dir, wavs, opts):
    espnet = _s2t(model_dir, use_espnet_beam_search=True, **opts)
    ours = _s2t(model_dir, **opts)
    assert isinstance(espnet.beam_search, inf.BatchBeamSearch) and ours.beam_search is None
    reference = [espnet(w) for w in wavs]
    batched = ours.batch(wavs)
    assert [_ids(r) for r in batched] == [_ids(r) for r in reference]
    assert [_ids(ours(w)) for w in wavs] == [_ids(r) for r in reference]  # one by one too
    for got, want in zip(batched, reference):
        for (_, _, _, h), (_, _, _, g) in zip(got, want):
            assert float(h.score) == pytest.approx(float(g.score), abs=1e-3)
            assert set(h.scores) == set(g.scores)
    assert len({len(r[0][2]) for r in batched}) > 1  # utterances end at different steps


def test_batched_greedy_decoding_equals_one_by_one(model_dir, wavs):
    s2t = _s2t(model_dir, beam_size=1, ctc_weight=0.0, maxlenratio=0.6)
    batched = s2t.batch(wavs)
    for wav, got in zip(wavs, batched):
        alone = s2t(wav)
        assert _ids(got) == _ids(alone)
        assert float(got[0][3].score) == pytest.approx(float(alone[0][3].score), abs=1e-4)


def test_maxlenratio_beyond_the_encoder_length_is_clamped_with_ctc(model_dir, wavs):
    frames = 4000 // 320
    for espnet in (True, False):  # ESPnet's CTC prefix scorer would index past the last frame
        s2t = _s2t(model_dir, beam_size=3, ctc_weight=0.5, maxlenratio=3.0, use_espnet_beam_search=espnet)
        ids = s2t(wavs[3])[0][2]
        assert len(ids) <= frames
    # without CTC the ratio is taken as given: greedy decoding runs past the encoder length
    no_ctc = _s2t(model_dir, beam_size=1, ctc_weight=0.0, maxlenratio=3.0)
    _suppress_eos(no_ctc.model)
    assert len(no_ctc(wavs[3])[0][2]) == 3 * frames


def _suppress_eos(model):
    """eos never the argmax: its output row (tied embedding) far against every decoder state."""
    with torch.no_grad():
        emb = model.backbone.text_decoder_postnet.output_projection.weight
        emb[model.specials["eos"]] = -100.0 * model.backbone.decoder.layers[-1].final_layer_norm.bias.sign()


def _tts(model_dir, cls=inf.Text2Speech, **kwargs):
    return cls(model_dir / "config.yaml", model_dir / "model.pth", use_prenet_dropout=False, **kwargs)


def _stop_after(model, steps_bias):
    with torch.no_grad():
        model.backbone.speech_decoder_postnet.prob_out.weight.zero_()
        model.backbone.speech_decoder_postnet.prob_out.bias.fill_(steps_bias)


def test_batched_tts_gives_each_text_its_own_frames_and_stop(model_dir):
    tts = _tts(model_dir, maxlenratio=3.0)
    _stop_after(tts.model, -9.0)  # no stop token: each runs to its own maxlen = int(3 * L / 2) steps
    texts = [[5, 6, 7, 2], [8, 9, 10, 11, 12, 13, 2], [14, 2]]
    rng = np.random.default_rng(0)
    spembs = [rng.standard_normal(8).astype(np.float32) for _ in texts]
    batched = tts.batch(texts, spembs, need_attn=True, vocode=False)
    for text, spk, got in zip(texts, spembs, batched):
        alone = tts(text, spembs=spk)
        assert got["feat_gen"].shape == alone["feat_gen"].shape
        assert float((got["feat_gen"] - alone["feat_gen"]).abs().max()) < 1e-5
        assert float((got["att_w"] - alone["att_w"]).abs().max()) < 1e-5
        assert got["stop_fired"] == alone["stop_fired"] and "wav" not in got
    assert [r["feat_gen"].shape[0] for r in batched] == [2 * int(3.0 * len(t) / 2) for t in texts]


def test_stop_fired_tells_a_stop_token_from_the_length_limit(model_dir):
    tts = _tts(model_dir, maxlenratio=2.0)
    _stop_after(tts.model, -9.0)  # never fires: cut at maxlen
    out = tts([5, 6, 7, 2], spembs=np.ones(8, np.float32))
    assert out["stop_fired"] is False and out["feat_gen"].shape[0] == 2 * int(4 * 2.0 / 2)
    _stop_after(tts.model, 9.0)  # fires at the first step
    out = tts([5, 6, 7, 2], spembs=np.ones(8, np.float32))
    assert out["stop_fired"] is True and out["feat_gen"].shape[0] == 2


def test_batched_vc_equals_one_by_one(model_dir, wavs):
    vc = _tts(model_dir, cls=inf.Speech2Speech, maxlenratio=0.4)
    spk = np.ones(8, np.float32)
    batched = vc.batch(wavs[:3], [spk] * 3, vocode=False)
    for wav, got in zip(wavs[:3], batched):
        alone = vc(wav, spembs=spk)
        assert got["feat_gen"].shape == alone["feat_gen"].shape
        assert float((got["feat_gen"] - alone["feat_gen"]).abs().max()) < 1e-4


def test_attention_map_for_plots_averages_the_guided_heads(model_dir):
    tts = _tts(model_dir, maxlenratio=2.0)
    att = torch.rand(2, 2, 5, 4)  # (layers, heads, steps, L)
    heads = tts.model.guided_attn.num_heads  # the guided attention's first N heads of every layer
    assert torch.allclose(tts.attention_map(att), att[:, :heads].mean((0, 1)))


def _data_dir(root, n=3):
    root.mkdir()
    import kaldiio

    rng = np.random.default_rng(1)
    texts = ["hello", "ab cd", "xyz"]
    with kaldiio.WriteHelper(f"ark,scp:{root / 'spk.ark'},{root / 'spk.scp'}") as w:
        for i in range(n):
            uid = f"u{i}"
            sf.write(root / f"{uid}.wav", (0.1 * rng.standard_normal(6000 + 2000 * i)).astype(np.float32), 16000)
            w[uid] = rng.standard_normal(8).astype(np.float32)
    (root / "wav.scp").write_text("".join(f"u{i} {root / f'u{i}'}.wav\n" for i in range(n)))
    (root / "text").write_text("".join(f"u{i} {texts[i]}\n" for i in range(n)))
    return root


def _cli(model_dir, task, out, data, *extra):
    args = ["--task", task, "--output_dir", str(out), "--train_config", str(model_dir / "config.yaml"),
            "--model_file", str(model_dir / "model.pth"), *extra]
    inputs = [f"{data}/wav.scp,speech,sound"] if task in ("asr", "vc") else [f"{data}/text,text,text"]
    if task != "asr":
        inputs.append(f"{data}/spk.scp,spembs,kaldi_ark")
    for d in inputs:
        args += ["--data_path_and_name_and_type", d]
    assert inf.main(args) == 0
    return out


def test_cli_batch_size_gives_the_same_transcripts(model_dir, tmp_path):
    data = _data_dir(tmp_path / "data")
    one = _cli(model_dir, "asr", tmp_path / "one", data, "--beam_size", "3", "--ctc_weight", "0.5")
    three = _cli(model_dir, "asr", tmp_path / "three", data, "--beam_size", "3", "--ctc_weight", "0.5", "--batch_size", "3")
    for name in ("text", "token_int", "score"):
        a = (one / "1best_recog" / name).read_text().splitlines()
        b = (three / "1best_recog" / name).read_text().splitlines()
        if name == "score":
            assert [float(x.split()[1]) for x in a] == pytest.approx([float(x.split()[1]) for x in b], abs=1e-3)
        else:
            assert a == b and len(a) == 3


@pytest.mark.parametrize("task", ["tts", "vc"])
def test_cli_writes_stop_fired_and_plot_data_for_the_first_utterances(model_dir, tmp_path, task):
    data = _data_dir(tmp_path / "data")
    out = _cli(model_dir, task, tmp_path / task, data, "--maxlenratio", "1.0", "--use_prenet_dropout", "false",
               "--batch_size", "2", "--num_plots", "2")
    fired = dict(line.split() for line in (out / "stop_fired").read_text().splitlines())
    assert sorted(fired) == ["u0", "u1", "u2"] and set(fired.values()) <= {"0", "1"}
    shapes = dict(line.split() for line in (out / "speech_shape").read_text().splitlines())
    assert sorted(p.name for p in (out / "plots").iterdir()) == [
        f"u{i}_{kind}.npy" for i in range(2) for kind in ("att", "feat", "prob")
    ]
    for key in ("u0", "u1"):
        frames = int(shapes[key].split(",")[0])
        att = np.load(out / "plots" / f"{key}_att.npy")
        assert att.shape[0] == frames // 2 and att.ndim == 2  # (decoder steps, input length)
        assert np.allclose(att.sum(-1), 1.0, atol=1e-4)  # rows of attention probabilities
        assert np.load(out / "plots" / f"{key}_prob.npy").shape == (frames,)
        assert np.load(out / "plots" / f"{key}_feat.npy").shape == (frames, 80)
