"""Every inference path takes a device and gives on it what it gives on the CPU: STTATTS ASR (our
batched beam search with the CTC prefix scorer, and ESPnet's BatchBeamSearch + CTCPrefixScorer),
TTS and VC, the inference CLI's --ngpu, dMel ASR and TTS, the judge ASR (--device of the scorers)
and speaker embeddings (stage 3's --device, workers included). Tiny random models; the "cuda" cases
run where a CUDA device is present (the accelerator: tools/accelerator/run.sh) and compare its
outputs with the CPU's, computed once per module."""
import argparse

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet_ext.bin import dmel_inference, sttatts_inference
from espnet_ext.tasks.dmel_lm import DMelLMTask

NO_CUDA = "no CUDA device on this machine; runs on the accelerator"
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA))]
LENGTHS = (12000, 7000, 16000)  # samples: 37, 21, 49 encoder frames
ASR = dict(beam_size=3, ctc_weight=0.5, nbest=2)
FEAT_ATOL = 1e-3  # float32 on another device: the same outputs up to rounding


@pytest.fixture(autouse=True, scope="module")
def no_tf32():
    """cuDNN convolutions default to TF32 (10-bit mantissa) on Ampere and later: compare in float32."""
    before = torch.backends.cudnn.allow_tf32, torch.get_float32_matmul_precision()
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    yield
    torch.backends.cudnn.allow_tf32 = before[0]
    torch.set_float32_matmul_precision(before[1])


@pytest.fixture(scope="module")
def sttatts_dir(tmp_path_factory, tiny_sttatts):
    return tiny_sttatts.write(tmp_path_factory.mktemp("sttatts_devices"))


@pytest.fixture(scope="module")
def wavs():
    rng = np.random.default_rng(3)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in LENGTHS]


@pytest.fixture(scope="module")
def spembs():
    rng = np.random.default_rng(4)
    return [rng.standard_normal(8).astype(np.float32) for _ in LENGTHS]


def _hyps(nbests):
    return [[(r[2], float(r[3].score)) for r in nbest] for nbest in nbests]


def _assert_same_hyps(got, want):
    assert [[ids for ids, _ in n] for n in got] == [[ids for ids, _ in n] for n in want]
    for n_got, n_want in zip(got, want):
        assert [s for _, s in n_got] == pytest.approx([s for _, s in n_want], abs=1e-3)


@pytest.fixture(scope="module")
def sttatts_cpu(sttatts_dir, wavs, spembs):
    """The CPU outputs every device is compared with."""
    s2t = sttatts_inference.Speech2Text(sttatts_dir / "config.yaml", sttatts_dir / "model.pth", **ASR)
    espnet = sttatts_inference.Speech2Text(sttatts_dir / "config.yaml", sttatts_dir / "model.pth",
                                           use_espnet_beam_search=True, **ASR)
    return dict(asr=_hyps(s2t.batch(wavs)), espnet=_hyps([espnet(w) for w in wavs]),
                tts=_speech(sttatts_inference.Text2Speech, sttatts_dir, "cpu", ["hello world", "good day", "abc"], spembs),
                vc=_speech(sttatts_inference.Speech2Speech, sttatts_dir, "cpu", wavs, spembs))


def _speech(cls, model_dir, device, inputs, spembs):
    gen = cls(model_dir / "config.yaml", model_dir / "model.pth", device=device, use_prenet_dropout=False,
              maxlenratio=3.0)
    assert next(gen.model.parameters()).device.type == device
    return [(r["feat_gen"].cpu().numpy(), bool(r["stop_fired"])) for r in gen.batch(inputs, spembs, vocode=False)]


@pytest.mark.parametrize("device", DEVICES)
def test_sttatts_asr_beam_search_on_device_equals_cpu(sttatts_dir, wavs, sttatts_cpu, device):
    ours = sttatts_inference.Speech2Text(sttatts_dir / "config.yaml", sttatts_dir / "model.pth", device=device, **ASR)
    espnet = sttatts_inference.Speech2Text(sttatts_dir / "config.yaml", sttatts_dir / "model.pth", device=device,
                                           use_espnet_beam_search=True, **ASR)
    assert next(ours.model.parameters()).device.type == device
    _assert_same_hyps(_hyps(ours.batch(wavs)), sttatts_cpu["asr"])
    _assert_same_hyps(_hyps([espnet(w) for w in wavs]), sttatts_cpu["espnet"])
    assert any(n[0][0] for n in sttatts_cpu["asr"])  # some labels: the comparison is not of empty outputs


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("task", ["tts", "vc"])
def test_sttatts_tts_and_vc_on_device_equal_cpu(sttatts_dir, wavs, spembs, sttatts_cpu, device, task):
    cls, inputs = {"tts": (sttatts_inference.Text2Speech, ["hello world", "good day", "abc"]),
                   "vc": (sttatts_inference.Speech2Speech, wavs)}[task]
    got = _speech(cls, sttatts_dir, device, inputs, spembs)
    for (feat, fired), (want, want_fired) in zip(got, sttatts_cpu[task]):
        assert fired == want_fired and feat.shape == want.shape and feat.shape[0] > 0
        np.testing.assert_allclose(feat, want, atol=FEAT_ATOL)


@pytest.mark.parametrize("device", DEVICES)
def test_sttatts_inference_cli_decodes_on_the_gpu_with_ngpu(sttatts_dir, wavs, sttatts_cpu, tmp_path, device):
    for i, w in enumerate(wavs):
        sf.write(tmp_path / f"u{i}.wav", w, 16000, subtype="FLOAT")
    (tmp_path / "wav.scp").write_text("".join(f"u{i} {tmp_path / f'u{i}.wav'}\n" for i in range(len(wavs))))
    out = tmp_path / "out"
    sttatts_inference.main([
        "--task", "asr", "--train_config", str(sttatts_dir / "config.yaml"), "--model_file", str(sttatts_dir / "model.pth"),
        "--data_path_and_name_and_type", f"{tmp_path / 'wav.scp'},speech,sound", "--output_dir", str(out),
        "--ngpu", "1" if device == "cuda" else "0", "--batch_size", "3",
        "--beam_size", str(ASR["beam_size"]), "--ctc_weight", str(ASR["ctc_weight"]),
    ])  # fmt: skip
    token_int = dict(line.partition(" ")[::2] for line in (out / "1best_recog" / "token_int").read_text().splitlines())
    assert [[int(t) for t in token_int[f"u{i}"].split()] for i in range(len(wavs))] == [n[0][0] for n in sttatts_cpu["asr"]]


# ------------------------------------------------------------------------------------ dMel
DMEL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "▁", *"abcdefghijklmnopqrstuvwxyz'", "<mask>", "<ctc_blank>"]


@pytest.fixture(scope="module")
def dmel_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("dmel_devices")
    args = DMelLMTask.get_parser().parse_args([
        "--token_list", "x", "--lm_conf", "{n_layer: 2, n_head: 2, n_embd: 64, channel_embd: 4, spk_embed_dim: 4, dropout: 0.0}",
        "--model_conf", "{job: joint, span_mask: false, specaug: false}",
    ])  # fmt: skip
    args.token_list = DMEL_TOKENS
    torch.manual_seed(0)
    model = DMelLMTask.build_model(args)
    (d / "config.yaml").write_text(yaml.safe_dump(vars(args), allow_unicode=True), encoding="utf-8")
    torch.save(model.state_dict(), d / "model.pth")
    return d


def _dmel(dmel_dir, device, wavs):
    s2t = dmel_inference.Speech2Text(dmel_dir / "config.yaml", dmel_dir / "model.pth", device=device, beam_size=2,
                                     nbest=2, maxlenratio=0.2)
    t2s = dmel_inference.Text2Speech(dmel_dir / "config.yaml", dmel_dir / "model.pth", device=device, temperature=0.0,
                                     maxlenratio=2.0, vocoder=lambda mel: np.zeros(1, np.float32))
    assert next(s2t.model.parameters()).device.type == device
    asr = [[(h[2], h[3]) for h in s2t(w[:8000])] for w in wavs]
    tts = t2s("a cat sat", spembs=np.ones(4, np.float32))
    return asr, tts["tokens"].cpu().numpy(), tts["feat_gen"].cpu().numpy()


@pytest.fixture(scope="module")
def dmel_cpu(dmel_dir, wavs):
    return _dmel(dmel_dir, "cpu", wavs)


@pytest.mark.parametrize("device", DEVICES)
def test_dmel_asr_and_tts_on_device_equal_cpu(dmel_dir, wavs, dmel_cpu, device):
    asr, tokens, mel = _dmel(dmel_dir, device, wavs)
    want_asr, want_tokens, want_mel = dmel_cpu
    assert [[ids for ids, _ in n] for n in asr] == [[ids for ids, _ in n] for n in want_asr]
    assert [s for n in asr for _, s in n] == pytest.approx([s for n in want_asr for _, s in n], abs=1e-3)
    assert tokens.shape[0] > 0 and np.array_equal(tokens, want_tokens)
    np.testing.assert_allclose(mel, want_mel, atol=FEAT_ATOL)


# ------------------------------------------------------------------------------------ judge, speaker
@pytest.fixture(scope="module")
def judge_asr(tmp_path_factory):
    """A tiny random ESPnet ASR (config.yaml, model.pth), as the recipes' judge."""
    from espnet2.tasks.asr import ASRTask

    exp = tmp_path_factory.mktemp("judge") / "asr_tiny"
    exp.mkdir()
    tokens = ["<blank>", "<unk>", *"abcdefghijklmnopqrstuvwxyz '", "<sos/eos>"]
    (exp / "tokens.txt").write_text("\n".join(tokens) + "\n")
    ASRTask.main(cmd=[
        "--dry_run", "true", "--output_dir", str(exp), "--token_list", str(exp / "tokens.txt"),
        "--token_type", "char", "--normalize", "none", "--encoder", "transformer", "--encoder_conf", "output_size=16",
        "--encoder_conf", "linear_units=32", "--encoder_conf", "num_blocks=1", "--decoder", "transformer",
        "--decoder_conf", "linear_units=32", "--decoder_conf", "num_blocks=1",
    ])  # fmt: skip
    torch.manual_seed(0)
    model, _ = ASRTask.build_model_from_file(exp / "config.yaml", None, "cpu")
    torch.save(model.state_dict(), exp / "model.pth")
    return exp / "config.yaml", exp / "model.pth"


def _judge(judge_asr, device, wavs):
    from espnet_ext.evaluation.judge import add_judge_arguments, judge_from_args

    parser = argparse.ArgumentParser()
    add_judge_arguments(parser)
    config, model = judge_asr
    judge = judge_from_args(parser.parse_args(
        ["--judge", f"espnet:{config},{model}", "--device", device, "--judge_opts", "beam_size=2", "ctc_weight=0.3",
         "maxlenratio=0.3"]))  # fmt: skip
    assert next(judge.speech2text.asr_model.parameters()).device.type == device
    return [judge.speech2text(w)[0][2] for w in wavs]


@pytest.mark.parametrize("device", DEVICES)
def test_judge_decodes_on_the_device_of_the_scorers_option(judge_asr, wavs, device):
    want = _judge(judge_asr, "cpu", wavs) if device != "cpu" else None
    got = _judge(judge_asr, device, wavs)
    assert all(len(ids) > 0 for ids in got)  # a random model emits some labels within maxlenratio
    if want is not None:
        assert got == want


@pytest.mark.parametrize("device", DEVICES)
def test_speaker_embeddings_on_device_equal_cpu(tmp_path, espeak_speech, device):
    from espnet_ext.bin.extract_spk_embed import main
    from espnet_ext.speaker.embedding import build_embedder

    speech = {"a-0": espeak_speech("open the door please", "en-us+m3"), "b-0": espeak_speech("a cat sat", "en-gb+f4")}
    want = {k: build_embedder("dvector", device="cpu")(w, 16000) for k, w in speech.items()}
    got = {k: build_embedder("dvector", device=device)(w, 16000) for k, w in speech.items()}
    for k in speech:
        np.testing.assert_allclose(got[k], want[k], atol=1e-4)
    for k, w in speech.items():
        sf.write(tmp_path / f"{k}.wav", w, 16000)
    (tmp_path / "wav.scp").write_text("".join(f"{k} {tmp_path / k}.wav\n" for k in speech))
    (tmp_path / "utt2spk").write_text("".join(f"{k} {k[0]}\n" for k in speech))
    # two workers: spawned on a GPU (CUDA does not start in a forked process), forked on the CPU
    assert main(["--data", str(tmp_path), "--device", device, "--nj", "2"]) == 0
    written = kaldiio.load_scp(str(tmp_path / "dvector.scp"))
    for k in speech:
        np.testing.assert_allclose(written[k], want[k], atol=1e-4)
