"""Bad input gives a clear message naming the file and the utterance, and loses nothing else.

(Audio problems, empty transcripts, duplicate ids and the drop report are covered by
tests/bin/test_format_audio.py and tests/corpora/test_data_dir.py.)
"""
import re
import shutil

import kaldiio
import numpy as np
import pytest
import torch
import yaml
from reliability_tiny import TOKENS, epoch_results, log_to, write_config

from espnet_ext.bin import sttatts_inference
from espnet_ext.bin.prepare_data import main as prepare_main
from espnet_ext.sttatts.data import DataKeyError, STTATTSPreprocessor
from espnet_ext.tasks.sttatts import STTATTSTask

UNK = TOKENS.index("<unk>")


# ------------------------------------------------------------------- characters outside the tokens
def test_characters_outside_the_token_list_read_as_unk_with_one_warning_naming_the_utterance(caplog):
    pre = STTATTSPreprocessor(TOKENS)
    speech = np.zeros(1600, dtype=np.float32)
    out = pre("s1-x", {"speech": speech, "text": "héllo wörld", "category": "asr"})
    expected = [UNK if c in "éö" else TOKENS.index("▁" if c == " " else c) for c in "héllo wörld"]
    assert out["text"].tolist() == expected
    assert "s1-x: characters ['é', 'ö'] are not in the token list: read as <unk>" in caplog.text
    caplog.clear()
    pre("s1-x", {"speech": speech, "text": "héllo wörld", "category": "asr"})  # the next epoch
    pre("s1-y", {"speech": speech, "text": "hello", "category": "asr"})
    assert caplog.text == ""  # once per utterance, and nothing for clean text


# ------------------------------------------------------------------- a corrupted embedding: NaN loss
@pytest.fixture(scope="module")
def bad_data_run(tiny_run, tmp_path_factory):
    """Two epochs on a copy of the tiny data where one TTS utterance has a NaN speaker embedding
    (its batch's loss and gradients are NaN) and one transcript has a character outside the
    tokens; validation on the clean data."""
    root = tmp_path_factory.mktemp("bad_data")
    data = root / "data"
    shutil.copytree(tiny_run.data, data)
    vectors = {k: v.copy() for k, v in kaldiio.load_scp(str(data / "spk_embed.scp")).items()}
    vectors["s2-t2"][:] = np.nan
    with kaldiio.WriteHelper(f"ark,scp:{data / 'spk_embed.ark'},{data / 'spk_embed.scp'}") as w:
        for k in sorted(vectors):
            w[k] = vectors[k]
    text = (data / "text").read_text().replace("s1-a2 good day", "s1-a2 good dày")
    (data / "text").write_text(text)
    cmd = tiny_run.cmd(root / "exp", max_epoch=2)
    for i, arg in enumerate(cmd):  # train on the bad copy, validate on the clean data
        if arg.startswith(f"{tiny_run.data}/") and cmd[i - 1] == "--train_data_path_and_name_and_type":
            cmd[i] = arg.replace(str(tiny_run.data), str(data))
    with log_to(root / "train.log") as log:
        STTATTSTask.main(cmd=cmd)
    return root / "exp", log


NON_FINITE = re.compile(r"Non-finite loss nan \((.*?)\) in the batch of (\d+) utterances (.*?); non-finite input: "
                        r"(.*?)\. ESPnet's trainer skips the update of the whole batch")


def test_a_nan_loss_batch_is_skipped_and_logged_and_training_goes_on(bad_data_run):
    out, log_file = bad_data_run
    log = log_file.read_text()
    assert log.count("The grad norm is nan. Skipping updating the model.") == 2  # once per epoch
    # the log names the bad utterance, and its batch partners: they are skipped with it (ESPnet's
    # trainer drops the whole batch's update), so each epoch loses them too, named, not silently
    found = NON_FINITE.findall(log)
    assert len(found) == 2
    for terms, n, ids, bad in found:
        ids = ids.split()
        assert terms == "tts_loss nan" and bad == "s2-t2 (spembs)"
        assert "s2-t2" in ids and len(ids) == int(n) > 1 and len(set(ids)) == len(ids)
    assert "The training was finished at 2 epochs" in log
    # nothing of the bad batch stays in the model: not its update, nor its BatchNorm statistics
    # (the postnet's running mean/var, moved by the forward before the update is skipped)
    model = torch.load(out / "2epoch.pth")
    assert all(torch.isfinite(v).all() for v in model.values() if v.is_floating_point())
    valid = epoch_results(log_file, 2, "valid")
    assert all(np.isfinite(float(valid[k])) for k in ("tts_l1_after", "vc_l1_after", "loss"))
    first = torch.load(out / "1epoch.pth")
    assert any(not torch.equal(first[k], model[k]) for k in model)  # the other batches still updated it


def test_an_unknown_character_in_training_data_is_reported_once_naming_the_utterance(bad_data_run):
    log = bad_data_run[1].read_text()
    assert log.count("s1-a2: characters ['à'] are not in the token list: read as <unk>") == 1


# ------------------------------------------------------------------- a speaker without an embedding
def _drop_embedding(data, utt):
    lines = (data / "spk_embed.scp").read_text().splitlines()
    (data / "spk_embed.scp").write_text("".join(x + "\n" for x in lines if not x.startswith(f"{utt} ")))


def test_training_with_an_utterance_without_embedding_stops_before_training_naming_it(tiny_run, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_run.data, data)
    _drop_embedding(data, "s2-t2")
    cmd = [arg.replace(str(tiny_run.data), str(data)) for arg in tiny_run.cmd(tmp_path / "exp")]
    expected = rf"{data}/spk_embed.scp \(spembs\) has no entry for 1 utterance\(s\): s2-t2 \(speaker s2\)"
    with pytest.raises(DataKeyError, match=expected):
        STTATTSTask.main(cmd=cmd)
    assert not (tmp_path / "exp" / "checkpoint.pth").exists()
    # stage 4 (collect_stats, ESPnet's streaming reader) stops with the same message
    with pytest.raises(DataKeyError, match="s2-t2 \\(speaker s2\\)"):
        STTATTSTask.main(cmd=[*cmd[: cmd.index("--batch_type")], "--collect_stats", "true"])


def test_synthesis_for_an_utterance_without_embedding_stops_naming_it(tiny_run, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_run.data, data)
    _drop_embedding(data, "s1-t1")
    args = ["--task", "tts", "--train_config", str(tiny_run.out / "config.yaml"), "--model_file",
            str(tiny_run.out / "3epoch.pth"), "--output_dir", str(tmp_path / "out"),
            "--data_path_and_name_and_type", f"{data}/text,text,text",
            "--data_path_and_name_and_type", f"{data}/spk_embed.scp,spembs,kaldi_ark"]
    expected = r"spk_embed.scp \(spembs\) has no entry for 1 utterance\(s\): s1-t1 \(speaker s1\)"
    with pytest.raises(DataKeyError, match=expected):
        sttatts_inference.main(args)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------- corpus root and layout
@pytest.mark.parametrize(
    "corpus, split, expected",
    [
        ("librispeech", "train-clean-100", "LibriSpeech/train-clean-100"),
        ("libritts", "train-clean-100", "LibriTTS/train-clean-100"),
        ("ljspeech", "", "LJSpeech-1.1"),
        ("cmu_arctic", "bdl", "cmu_us_bdl_arctic"),
        ("arabic_speech_corpus", "train", "arabic-speech-corpus"),
    ],
)
def test_prepare_data_on_a_missing_root_names_the_folder_it_looked_for(tmp_path, caplog, corpus, split, expected):
    root = tmp_path / "no_such_root"
    argv = ["--corpus", corpus, "--root", str(root), "--split", split, "--out", str(tmp_path / "d")]
    assert prepare_main(argv) == 1
    assert f"folder not found: {root / expected}" in caplog.text
    assert not (tmp_path / "d").exists()


def _layout(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


WRONG_LAYOUTS = {
    "flac renamed to wav": (
        "librispeech", "dev",
        {"LibriSpeech/dev/1/2/1-2.trans.txt": "1-2-0001 HELLO\n", "LibriSpeech/dev/1/2/1-2-0001.wav": b"x"},
        "librispeech dev: none of the listed audio files exists",
    ),
    "no transcripts": (
        "librispeech", "dev", {"LibriSpeech/dev/1/2/1-2-0001.flac": b"x"},
        "LibriSpeech: no '*.trans.txt' under {root}/LibriSpeech/dev/<spk>/<chapter>/",
    ),
    "no metadata.csv": (
        "ljspeech", "", {"LJSpeech-1.1/wavs/LJ001-0001.wav": b"x"}, "LJSpeech: {root}/LJSpeech-1.1/metadata.csv not found"
    ),
    "no prompt file": (
        "cmu_arctic", "bdl", {"cmu_us_bdl_arctic/wav/arctic_a0001.wav": b"x"},
        "CMU Arctic: {root}/cmu_us_bdl_arctic/etc/txt.done.data not found",
    ),
    "transcript not in ASC's format": (
        "arabic_speech_corpus", "train",
        {"arabic-speech-corpus/orthographic-transcript.txt": "ARA NORM  0002.wav, text\n"},
        "{root}/arabic-speech-corpus/orthographic-transcript.txt:1: expected",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_LAYOUTS))
def test_prepare_data_on_a_wrong_layout_names_the_file_or_folder(tmp_path, caplog, case):
    corpus, split, files, expected = WRONG_LAYOUTS[case]
    root = tmp_path / "root"
    _layout(root, files)
    assert prepare_main(["--corpus", corpus, "--root", str(root), "--split", split, "--out", str(tmp_path / "d")]) == 1
    assert expected.format(root=root) in caplog.text


# ------------------------------------------------------------------- config keys
def test_an_unknown_top_level_config_key_is_named_by_the_parser(tmp_path, capsys):
    config = write_config(tmp_path / "train.yaml", optimm="adam")
    with pytest.raises(SystemExit):
        STTATTSTask.get_parser().parse_args(["--config", str(config), "--token_list", "t", "--output_dir", "o"])
    assert f"unrecognized arguments: optimm (from {config})" in capsys.readouterr().err


@pytest.mark.parametrize(
    "section, key, error",
    [
        ("backbone_conf", "d_modle", ValueError),
        ("model_conf", "ce_weigth", TypeError),
        ("task_fusion_conf", "task_dimm", TypeError),
    ],
)
def test_an_unknown_key_inside_a_conf_section_is_named_when_the_model_is_built(tiny_run, tmp_path, section, key, error):
    conf = yaml.safe_load(tiny_run.config.read_text())
    conf[section] = {**conf.get(section, {}), key: 1}
    config = tmp_path / "train.yaml"
    config.write_text(yaml.safe_dump(conf))
    cmd = tiny_run.cmd(tmp_path / "exp")
    cmd[cmd.index("--config") + 1] = str(config)
    with pytest.raises(error, match=key):
        STTATTSTask.main(cmd=cmd)
    assert not (tmp_path / "exp" / "checkpoint.pth").exists()
