"""STTATTSTask: parser, --help, --print_config round trip, configs, and a short ESPnet training run."""
import io
import sys
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet_ext.bin.make_token_list import HEAD, TAIL
from espnet_ext.tasks.sttatts import STTATTSTask

CONF = Path(__file__).parents[2] / "conf"
TOKENS = [*HEAD, *"▁abcdefghijklmnopqrstuvwxyz'", *TAIL]
TINY = dict(
    d_model=32, encoder_layers=1, decoder_layers=1, attention_heads=2, ffn_dim=64, conv_dim=[16, 16, 16],
    conv_kernel=[10, 8, 8], conv_stride=[5, 8, 8], pos_conv_kernel=8, pos_conv_groups=2, max_relative_position=16,
    speech_decoder_prenet_units=16, spk_embed_dim=8, postnet_layers=2, postnet_units=16,
)


def test_help_exits_0_and_lists_the_tasks_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        STTATTSTask.get_parser().parse_args(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ") and "--backbone_conf" in out and "--task_fusion" in out


def test_a_wrong_option_value_exits_2_with_argparses_message_naming_it(capsys):
    with pytest.raises(SystemExit) as exit_info:
        STTATTSTask.get_parser().parse_args(["--task_fusion", "nonsense", "--token_list", "t", "--output_dir", "o"])
    assert exit_info.value.code == 2
    assert "error: argument --task_fusion: invalid choice: 'nonsense'" in capsys.readouterr().err


def test_print_config_round_trip(tmp_path, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "argv", ["sttatts_train"])
    STTATTSTask.print_config(file=out)
    config = yaml.safe_load(out.getvalue())
    assert config["task_fusion"] == "concat_linear" and config["feats_extract"] == "speecht5_fbank"
    assert config["backbone_conf"]["d_model"] == 768 and config["model_conf"]["ce_weight"] == 0.5
    assert "accum_grad" not in config["model_conf"] and "reduce" not in config["ctc_conf"]
    path = tmp_path / "config.yaml"
    path.write_text(out.getvalue())
    args = STTATTSTask.get_parser().parse_args(["--config", str(path), "--token_list", "t", "--output_dir", "o"])
    for key in ("backbone_conf", "model_conf", "task_fusion_conf", "feats_extract_conf", "categories", "optim"):
        assert getattr(args, key) == config[key], key


def test_main_print_config_exits_0_after_printing_the_config(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["sttatts_train"])  # ESPnet's print_config reads the class choices from sys.argv
    # it prints to its default `file`, the sys.stdout of import time (pytest's, not capsys'): a buffer instead
    out = io.StringIO()
    monkeypatch.setattr(STTATTSTask.print_config.__func__, "__defaults__", (out,))
    with pytest.raises(SystemExit) as exit_info:
        STTATTSTask.main(cmd=["--print_config"])
    assert exit_info.value.code == 0
    config = yaml.safe_load(out.getvalue())
    assert config["task_fusion"] == "concat_linear" and config["backbone_conf"]["d_model"] == 768


@pytest.mark.parametrize("name", ["sttatts_base.yaml", "sttatts_mini.yaml"])
def test_shipped_configs_parse(name):
    args = STTATTSTask.get_parser().parse_args(["--config", str(CONF / name), "--token_list", "t", "--output_dir", "o"])
    assert args.task_fusion == "concat_linear"
    assert args.model_conf["ce_weight"] == 0.5 and args.model_conf["ctc_weight"] == 0.5


def test_mini_config_builds_a_small_model():
    args = STTATTSTask.get_parser().parse_args(["--config", str(CONF / "sttatts_mini.yaml"), "--token_list", "t", "--output_dir", "o"])
    args.token_list = TOKENS
    model = STTATTSTask.build_model(args)
    assert sum(p.numel() for p in model.parameters()) < 5e6
    assert args.token_list == TOKENS and args.backbone_conf["vocab_size"] == len(TOKENS)


def test_backbone_vocab_size_must_agree_with_the_token_list():
    args = STTATTSTask.get_parser().parse_args(["--token_list", "t", "--output_dir", "o"])
    args.token_list = TOKENS
    args.backbone_conf = {**TINY, "vocab_size": 99}
    with pytest.raises(ValueError, match="vocab_size"):
        STTATTSTask.build_model(args)


def write_data_dir(root: Path, utts) -> Path:
    """A Kaldi-style dir with wav.scp, text, utt2category, spk_embed.{ark,scp}, tgt_wav.scp (VC only)."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    lines = {name: [] for name in ("wav.scp", "text", "utt2category", "tgt_wav.scp")}
    embeds = {}
    for uid, cat, text, sec in utts:
        wav = root / f"{uid}.wav"
        sf.write(wav, (0.1 * rng.standard_normal(int(16000 * sec))).astype(np.float32), 16000)
        lines["wav.scp"].append(f"{uid} {wav}")
        lines["text"].append(f"{uid} {text}")
        lines["utt2category"].append(f"{uid} {cat}")
        embeds[uid] = rng.standard_normal(8).astype(np.float32)
        if cat == "vc":
            tgt = root / f"{uid}_tgt.wav"
            sf.write(tgt, (0.1 * rng.standard_normal(12000)).astype(np.float32), 16000)
            lines["tgt_wav.scp"].append(f"{uid} {tgt}")
    for name, rows in lines.items():
        (root / name).write_text("".join(r + "\n" for r in rows))
    with kaldiio.WriteHelper(f"ark,scp:{root / 'spk_embed.ark'},{root / 'spk_embed.scp'}") as w:
        for uid in sorted(embeds):
            w[uid] = embeds[uid]
    return root


UTTS = [
    ("u1", "asr", "hello world", 0.8),
    ("u2", "tts", "good day", 0.7),
    ("u3", "vc", "abc", 0.6),
    ("u4", "asr", "xyz", 0.5),
]


def data_args(d: Path, prefix: str) -> list:
    return [
        f"--{prefix}_data_path_and_name_and_type", f"{d}/wav.scp,speech,sound",
        f"--{prefix}_data_path_and_name_and_type", f"{d}/text,text,text",
        f"--{prefix}_data_path_and_name_and_type", f"{d}/utt2category,category,text",
        f"--{prefix}_data_path_and_name_and_type", f"{d}/spk_embed.scp,spembs,kaldi_ark",
        f"--{prefix}_data_path_and_name_and_type", f"{d}/tgt_wav.scp,speech_tgt,optional_sound",
    ]


def test_collect_stats_then_one_epoch_of_espnet_training_on_a_mixed_task_data_dir(tmp_path):
    """The recipe's stages 4 and 5: shape files from --collect_stats, then numel batches."""
    data = write_data_dir(tmp_path / "data", UTTS)
    token_list = tmp_path / "tokens.txt"
    token_list.write_text("".join(t + "\n" for t in TOKENS))
    config = tmp_path / "train.yaml"
    config.write_text(yaml.safe_dump({"backbone_conf": TINY, "optim": "adam", "optim_conf": {"lr": 0.001}}))
    common = ["--config", str(config), "--token_list", str(token_list), "--use_tensorboard", "false", "--num_workers", "0",
              *data_args(data, "train"), *data_args(data, "valid")]
    stats = tmp_path / "stats"
    STTATTSTask.main(cmd=[*common, "--output_dir", str(stats), "--collect_stats", "true", "--batch_type", "unsorted",
                          "--batch_size", "2", "--train_shape_file", f"{data}/wav.scp", "--valid_shape_file", f"{data}/wav.scp"])
    shapes = dict(line.split() for line in (stats / "train" / "speech_shape").read_text().splitlines())
    assert shapes == {"u1": "12800", "u2": "11200", "u3": "9600", "u4": "8000"}
    tgt = dict(line.split() for line in (stats / "train" / "speech_tgt_shape").read_text().splitlines())
    assert tgt["u3"] == "12000" and all(tgt.get(u, "0") == "0" for u in ("u1", "u2", "u4"))  # only VC has a target

    out = tmp_path / "exp"
    shape_args = []
    for mode in ("train", "valid"):
        for name in ("speech_shape", "text_shape"):
            shape_args += [f"--{mode}_shape_file", str(stats / mode / name)]
    STTATTSTask.main(cmd=[*common, "--output_dir", str(out), "--max_epoch", "1", "--batch_type", "numel",
                          "--batch_bins", "30000", "--best_model_criterion", "valid,loss,min", *shape_args])
    assert (out / "1epoch.pth").is_file() and (out / "config.yaml").is_file()
    model, args = STTATTSTask.build_model_from_file(out / "config.yaml", out / "1epoch.pth")
    assert args.token_list == TOKENS
    valid = torch.load(out / "checkpoint.pth", weights_only=False)["reporter"]["stats"][1]["valid"]
    assert {"asr_ce", "asr_ctc", "asr_acc", "tts_l1", "tts_attn", "vc_bce", "loss"} <= set(valid)
    assert all(np.isfinite(valid[k]) for k in ("asr_ce", "tts_l1", "vc_bce"))


def test_base_config_schedule_is_fairseqs_tri_stage():
    from espnet2.tasks.abs_task import scheduler_classes

    args = STTATTSTask.get_parser().parse_args(["--config", str(CONF / "sttatts_base.yaml"), "--token_list", "t"])
    param = torch.nn.Parameter(torch.zeros(1))
    optim = torch.optim.AdamW([param], **args.optim_conf)
    sched = scheduler_classes[args.scheduler](optim, **args.scheduler_conf)
    lrs = {}
    for step in range(150001):
        if step in (0, 37500, 60000, 97500, 150000):
            lrs[step] = optim.param_groups[0]["lr"]
        sched.step()
    assert lrs[0] == pytest.approx(1e-6, rel=0.01)  # init scale 0.01 x 1e-4 (ESPnet starts one step in)
    assert lrs[37500] == pytest.approx(1e-4, rel=1e-3) and lrs[97500] == pytest.approx(1e-4, rel=1e-3)  # 25 % + 40 %
    assert lrs[150000] == pytest.approx(5e-6)  # final scale 0.05
    assert args.optim == "adamw" and args.optim_conf["betas"] == [0.9, 0.98] and args.grad_clip == 25


def train_tiny(tmp_path, name, use_amp, epochs, monkeypatch=None, on_model=None):
    """ESPnet training of the tiny model on the 4-utterance data dir (2 batches an epoch, no
    collect_stats: unsorted batches need only the keys). Returns (checkpoint, output dir)."""
    data = tmp_path / "data"
    if not data.exists():
        write_data_dir(data, UTTS)
        (tmp_path / "tokens.txt").write_text("".join(t + "\n" for t in TOKENS))
    if on_model is not None:  # see the model the task builds inside main()
        build = STTATTSTask.build_model.__func__
        monkeypatch.setattr(STTATTSTask, "build_model", classmethod(lambda cls, args: on_model(build(cls, args))))
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump({"backbone_conf": TINY, "optim": "adam", "optim_conf": {"lr": 0.003}}))
    out = tmp_path / name
    STTATTSTask.main(cmd=[
        "--config", str(config), "--token_list", str(tmp_path / "tokens.txt"), "--use_tensorboard", "false",
        "--num_workers", "0", *data_args(data, "train"), *data_args(data, "valid"), "--output_dir", str(out),
        "--batch_type", "unsorted", "--batch_size", "2", "--train_shape_file", f"{data}/wav.scp",
        "--valid_shape_file", f"{data}/wav.scp", "--max_epoch", str(epochs), "--use_amp", str(use_amp).lower(),
        "--best_model_criterion", "valid,loss,min", "--keep_nbest_models", "1", "--num_att_plot", "0",
    ])
    return torch.load(out / "checkpoint.pth", weights_only=False), out


def test_use_amp_on_cpu_trains_in_bf16_and_the_loss_falls(tmp_path, monkeypatch):
    """--use_amp true with --ngpu 0: the projections of the training forward give bf16, CTC's and
    the 1-D convolutions' stay fp32 (the model keeps them out of autocast), and the loss falls
    over 6 steps."""
    seen = {}

    def record(name):
        def hook(module, inputs, output):
            if module.training:
                seen.setdefault(name, output.dtype)
        return hook

    def hook_linears(model):
        for name, m in model.named_modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d)):
                m.register_forward_hook(record(name))
        return model

    ckpt, out = train_tiny(tmp_path, "bf16", True, 3, monkeypatch, hook_linears)
    assert seen.pop("ctc.ctc_lo") == torch.float32
    convs = {name: seen.pop(name) for name in list(seen) if name.endswith(".conv")}
    assert len(convs) == 5 and set(convs.values()) == {torch.float32}, convs  # 3 pre-net + 2 post-net
    assert len(seen) > 10 and set(seen.values()) == {torch.bfloat16}, seen
    stats = ckpt["reporter"]["stats"]
    assert all(p.dtype == torch.float32 for p in ckpt["model"].values() if p.is_floating_point())  # fp32 master weights
    assert stats[1]["train"]["loss_scale"] == 1.0  # no loss scaling for bf16
    assert stats[3]["train"]["loss"] < 0.8 * stats[1]["train"]["loss"], [stats[e]["train"]["loss"] for e in stats]
    assert np.isfinite(stats[3]["valid"]["loss"])


def test_use_amp_false_trains_exactly_as_espnets_trainer(tmp_path, monkeypatch):
    """The fp32 path is unchanged: AmpTrainer with --use_amp false gives the same parameters,
    bit for bit, as ESPnet's own Trainer."""
    from espnet2.train.trainer import Trainer

    ours, _ = train_tiny(tmp_path, "ours", False, 1)
    monkeypatch.setattr(STTATTSTask, "trainer", Trainer)
    espnet, _ = train_tiny(tmp_path, "espnet", False, 1)
    assert ours["reporter"]["stats"][1]["train"]["loss"] == espnet["reporter"]["stats"][1]["train"]["loss"]
    assert ours["model"].keys() == espnet["model"].keys()
    assert all(torch.equal(ours["model"][k], espnet["model"][k]) for k in ours["model"])
