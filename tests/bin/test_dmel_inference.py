"""Speech2Text / Text2Speech / the inference CLI / from_pretrained, on a tiny joint model that has
overfitted two espeak utterances (so the expected outputs are known)."""
import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet_ext.bin.dmel_inference import Speech2Text, Text2Speech, main
from espnet_ext.dmel.tokenizer import DMelTokenizer
from espnet_ext.tasks.dmel_lm import DMelLMTask
from espnet_ext.zoo import pack_model

TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "▁", *"abcdefghijklmnopqrstuvwxyz'", "<mask>", "<ctc_blank>"]
TEXTS = {"spk1-u1": "open the door", "spk1-u2": "a cat sat"}


@pytest.fixture(scope="module")
def trained(espeak_speech, tmp_path_factory):
    """A directory with config.yaml, model.pth, and a data dir (wav.scp, text, dvector.scp, dmel.scp)."""
    d = tmp_path_factory.mktemp("dmel_inference")
    args = DMelLMTask.get_parser().parse_args([
        "--token_list", "x", "--lm_conf", "{n_layer: 2, n_head: 2, n_embd: 64, channel_embd: 4, spk_embed_dim: 4, dropout: 0.0}",
        "--model_conf", "{job: joint, span_mask: false, specaug: false}",
    ])
    args.token_list = TOKENS
    torch.manual_seed(0)
    model = DMelLMTask.build_model(args)
    waves = {k: espeak_speech(t) for k, t in TEXTS.items()}
    spk = {k: np.full(4, i + 1.0, np.float32) for i, k in enumerate(TEXTS)}
    tok = DMelTokenizer()
    tokens = {k: tok.encode(torch.from_numpy(w)[None])[0][0] for k, w in waves.items()}
    T = max(len(t) for t in tokens.values())
    speech = torch.stack([torch.cat([t, t.new_zeros(T - len(t), 80)]) for t in tokens.values()]).float()
    ids = [[TOKENS.index("▁" if c == " " else c) for c in t] for t in TEXTS.values()]
    L = max(map(len, ids))
    batch = (speech, torch.tensor([len(t) for t in tokens.values()]), torch.tensor([i + [-1] * (L - len(i)) for i in ids]),
             torch.tensor(list(map(len, ids))), torch.from_numpy(np.stack(list(spk.values()))))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(300):
        loss = model(*batch)[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
    (d / "config.yaml").write_text(yaml.safe_dump(vars(args), allow_unicode=True), encoding="utf-8")
    torch.save(model.state_dict(), d / "model.pth")
    data = d / "data"
    data.mkdir()
    for k, w in waves.items():
        sf.write(data / f"{k}.wav", w, 16000)
    (data / "wav.scp").write_text("".join(f"{k} {data / k}.wav\n" for k in TEXTS))
    (data / "text").write_text("".join(f"{k} {t}\n" for k, t in TEXTS.items()))
    with kaldiio.WriteHelper(f"ark,scp:{data / 'dvector.ark'},{data / 'dvector.scp'}") as w:
        for k, v in spk.items():
            w(k, v)
    with kaldiio.WriteHelper(f"ark,scp:{data / 'dmel.ark'},{data / 'dmel.scp'}") as w:
        for k, t in tokens.items():
            w(k, t.numpy().astype(np.float32))
    return d, waves, tokens, spk


@pytest.mark.parametrize("beam", [1, 3])
def test_speech2text_transcribes_waveforms_and_tokens(trained, beam):
    d, waves, tokens, _ = trained
    s2t = Speech2Text(d / "config.yaml", d / "model.pth", beam_size=beam, nbest=beam)
    for key, text in TEXTS.items():
        from_wav, from_tokens = s2t(waves[key]), s2t(tokens[key])
        assert from_wav[0][0] == text and from_tokens[0][0] == text
        assert len(from_wav) == beam
        assert from_wav[0][2] == [TOKENS.index("▁" if c == " " else c) for c in text]
        assert [h[3] for h in from_wav] == sorted((h[3] for h in from_wav), reverse=True)


def test_text2speech_returns_tokens_mel_and_waveform(trained):
    d, _, tokens, spk = trained
    t2s = Text2Speech(d / "config.yaml", d / "model.pth", temperature=0.0)
    out = t2s(TEXTS["spk1-u1"], spembs=spk["spk1-u1"])
    target = tokens["spk1-u1"]
    # free-running greedy generation reproduces the overfitted utterance and stops on its eos frame
    assert out["ended"] and out["tokens"].shape == target.shape
    assert (out["tokens"] == target).float().mean() > 0.95
    assert torch.equal(out["feat_gen"], t2s.model.tokenizer.decode(out["tokens"]))
    assert out["wav"].shape == (len(out["tokens"]) * 400,) and t2s.fs == 16000  # Griffin-Lim, hop 400


def test_text2speech_sampling_options_and_length_limit(trained):
    d, _, _, spk = trained
    seen = []
    t2s = Text2Speech(d / "config.yaml", d / "model.pth", maxlenratio=0.5, top_k=2, seed=1,
                      vocoder=lambda mel: seen.append(mel) or np.zeros(len(mel) * 400, np.float32))
    out = t2s("open the door", spembs=spk["spk1-u1"])
    assert len(out["tokens"]) == 6 and not out["ended"]  # 0.5 frames x 13 characters
    assert torch.equal(seen[0], out["feat_gen"])
    again = Text2Speech(d / "config.yaml", d / "model.pth", maxlenratio=0.5, top_k=2, seed=1, vocoder=lambda m: np.zeros(1))
    assert torch.equal(again("open the door", spembs=spk["spk1-u1"])["tokens"], out["tokens"])  # seeded


def test_a_tts_only_job_cannot_serve_asr(trained, tmp_path):
    d, *_ = trained
    config = yaml.safe_load((d / "config.yaml").read_text())
    config["model_conf"]["job"] = "tts"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    with pytest.raises(ValueError, match="trained for 'tts'"):
        Speech2Text(tmp_path / "config.yaml", d / "model.pth")


def test_cli_writes_asr_text_and_tts_audio(trained, tmp_path):
    d, *_ = trained
    model = ["--train_config", str(d / "config.yaml"), "--model_file", str(d / "model.pth")]
    main(["--job", "asr", "--output_dir", str(tmp_path / "asr"), *model, "--beam_size", "2",
          "--data_path_and_name_and_type", f"{d}/data/dmel.scp,speech,kaldi_ark"])
    hyps = dict(line.split(" ", 1) for line in (tmp_path / "asr/1best_recog/text").read_text().splitlines())
    assert hyps == TEXTS
    main(["--job", "tts", "--output_dir", str(tmp_path / "tts"), *model, "--temperature", "0",
          "--data_path_and_name_and_type", f"{d}/data/text,text,text",
          "--data_path_and_name_and_type", f"{d}/data/dvector.scp,spembs,kaldi_ark"])
    out = tmp_path / "tts"
    shapes = dict(line.split() for line in (out / "speech_shape").read_text().splitlines())
    for key in TEXTS:
        wav, fs = sf.read(out / "wav" / f"{key}.wav")
        assert fs == 16000 and len(wav) == int(shapes[key]) * 400
    mels = dict(kaldiio.load_scp(str(out / "feats.scp")))
    assert mels["spk1-u2"].shape == (int(shapes["spk1-u2"]), 80)
    assert (out / "ended").read_text().split() == ["spk1-u1", "true", "spk1-u2", "true"]


def test_from_pretrained_loads_a_packed_zip(trained, tmp_path, monkeypatch):
    d, waves, _, spk = trained
    monkeypatch.chdir(d)
    zip_path = pack_model(tmp_path / "model.zip", files={"model_file": "model.pth"}, yaml_files={"train_config": "config.yaml"})
    s2t = Speech2Text.from_pretrained(str(zip_path), cachedir=tmp_path / "cache", beam_size=2)
    assert s2t(waves["spk1-u2"])[0][0] == TEXTS["spk1-u2"]
    t2s = Text2Speech.from_pretrained(str(zip_path), cachedir=tmp_path / "cache", temperature=0.0)
    direct = Text2Speech(d / "config.yaml", d / "model.pth", temperature=0.0)
    assert torch.equal(t2s("a cat sat", spk["spk1-u2"])["tokens"], direct("a cat sat", spk["spk1-u2"])["tokens"])
