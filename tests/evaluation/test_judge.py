"""Judge ASR back ends: names on every result, ESPnet model files and zips, Whisper refusals."""
import os
import sys

import numpy as np
import pytest

from espnet_ext.evaluation.judge import CallableJudge, EspnetJudge, WhisperJudge, build_judge, whisper_weights

DECODE = dict(beam_size=2, maxlenratio=0.2)  # short, deterministic beam search on a random model


@pytest.fixture(scope="module")
def espnet_asr(tmp_path_factory):
    """A tiny random ESPnet ASR: (config.yaml, model.pth, packed zip)."""
    import torch
    from espnet2.main_funcs.pack_funcs import pack
    from espnet2.tasks.asr import ASRTask

    exp = tmp_path_factory.mktemp("asr") / "asr_tiny"
    exp.mkdir()
    tokens = ["<blank>", "<unk>", *"abcdefghijklmnopqrstuvwxyz '", "<sos/eos>"]
    (exp / "tokens.txt").write_text("\n".join(tokens) + "\n")
    ASRTask.main(
        cmd=[
            "--dry_run", "true", "--output_dir", str(exp), "--token_list", str(exp / "tokens.txt"),
            "--token_type", "char", "--normalize", "none",
            "--encoder", "rnn", "--encoder_conf", "num_layers=1", "--encoder_conf", "hidden_size=16",
            "--encoder_conf", "output_size=16", "--decoder", "rnn", "--decoder_conf", "hidden_size=16",
        ]
    )  # fmt: skip
    model, _ = ASRTask.build_model_from_file(exp / "config.yaml", None, "cpu")
    torch.save(model.state_dict(), exp / "model.pth")
    zip_path = exp.parent / "asr_tiny.zip"
    # Pack from the experiment's parent, as recipes do: entry names are then relative (a zip with
    # absolute entry names would unpack outside its folder, and is refused).
    cwd = os.getcwd()
    os.chdir(exp.parent)
    try:
        pack(
            files={"asr_model_file": "asr_tiny/model.pth"},
            yaml_files={"asr_train_config": "asr_tiny/config.yaml"},
            outpath=str(zip_path),
        )
    finally:
        os.chdir(cwd)
    return exp / "config.yaml", exp / "model.pth", zip_path


@pytest.fixture
def noise():
    return {f"utt{i}": np.random.default_rng(i).normal(0, 0.1, 8000).astype(np.float32) for i in range(2)}


def test_espnet_judge_from_files_and_from_zip_agree(espnet_asr, noise, tmp_path):
    config, model, zip_path = espnet_asr
    from_files = EspnetJudge(config, model, **DECODE)
    from_zip = EspnetJudge.from_zip(zip_path, cachedir=tmp_path / "unpacked", **DECODE)
    assert from_files.name == "espnet:asr_tiny" and from_zip.name == "espnet:asr_tiny"
    for wav in noise.values():
        text = from_files.transcribe(wav, 16000)
        assert isinstance(text, str) and text == from_zip.transcribe(wav, 16000)


def test_espnet_judge_score_names_the_judge(espnet_asr, noise):
    config, model, _ = espnet_asr
    judge = build_judge(f"espnet:{config},{model}", **DECODE)
    hyps = judge.transcribe_all(noise, 16000)
    refs = {utt: hyp + " extra" for utt, hyp in hyps.items()}  # one deleted word per utterance
    score = judge.score(noise, refs, 16000)
    assert score.judge == "espnet:asr_tiny" and not score.round_trip
    assert score.hypotheses == hyps
    assert score.wer.deletions == 2
    assert "intelligibility [judge espnet:asr_tiny]" in score.summary()


def test_round_trip_judge_is_labelled_round_trip():
    judge = CallableJudge(lambda wav, fs: "hello word", name="sttatts")
    score = judge.score({"u": np.zeros(160, np.float32)}, {"u": "hello world"}, 16000)
    assert score.judge == "round-trip:sttatts" and score.round_trip
    assert score.cer.substitutions + score.cer.deletions + score.cer.insertions == 1
    assert score.summary().startswith("round-trip [judge round-trip:sttatts]")


def test_whisper_without_weights_on_disk_refuses_to_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="small.pt"):
        WhisperJudge("small", download_root=str(tmp_path))
    with pytest.raises(FileNotFoundError):
        build_judge("whisper:tiny", download_root=str(tmp_path))


def test_whisper_without_the_package_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "small.pt").write_bytes(b"weights")
    assert whisper_weights("small", str(tmp_path)) == tmp_path / "small.pt"
    monkeypatch.setitem(sys.modules, "whisper", None)  # makes "import whisper" fail
    with pytest.raises(ImportError, match="openai-whisper"):
        WhisperJudge("small", download_root=str(tmp_path))


def test_unknown_judge_spec():
    with pytest.raises(ValueError, match="unknown judge"):
        build_judge("espnet:only_a_config.yaml")


def test_scorer_options_build_the_judge_with_its_decoding_options(espnet_asr):
    import argparse

    from espnet_ext.evaluation.judge import add_judge_arguments, judge_from_args

    config, model, _ = espnet_asr
    parser = argparse.ArgumentParser()
    add_judge_arguments(parser)
    assert judge_from_args(parser.parse_args([])) is None
    args = parser.parse_args(["--judge", f"espnet:{config},{model}", "--judge_opts", "beam_size=3", "ctc_weight=0.4"])
    judge = judge_from_args(args)
    assert judge.name == "espnet:asr_tiny"
    assert judge.speech2text.beam_search.beam_size == 3
    assert judge.speech2text.beam_search.weights["ctc"] == 0.4
