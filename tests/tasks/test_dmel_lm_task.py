"""DMelLMTask: parser, --help / --print_config round trip, model building from configs and files."""
import io
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from espnet_ext.dmel.model import DMelLMConfig, count_parameters
from espnet_ext.dmel.tokenizer import save_bin_table, uniform_bin_table
from espnet_ext.tasks.dmel_lm import DMelLMTask

CONF = Path(__file__).resolve().parents[2] / "conf"
TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "▁", *"abcdefghijklmnopqrstuvwxyz'", "<mask>", "<ctc_blank>"]


def test_help_exits_cleanly(capsys):
    with pytest.raises(SystemExit) as e:
        DMelLMTask.main(cmd=["--help"])
    assert e.value.code == 0
    assert "--lm_conf" in capsys.readouterr().out


def test_print_config_round_trips_through_the_parser(tmp_path):
    with pytest.raises(SystemExit) as e:
        DMelLMTask.main(cmd=["--print_config"])
    assert e.value.code == 0
    buf = io.StringIO()  # ESPnet's print_config binds sys.stdout at import: read it from a buffer
    DMelLMTask.print_config(buf)
    printed = yaml.safe_load(buf.getvalue())
    assert printed["model_conf"]["job"] == "asr" and printed["dmel_conf"]["frame_rate_hz"] == 40
    assert "text_vocab_size" not in printed["lm_conf"] and printed["lm_conf"]["n_layer"] == 36
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(printed), encoding="utf-8")
    args = DMelLMTask.get_parser().parse_args(["--config", str(path)])
    for key, value in printed.items():
        assert getattr(args, key) == value, key


@pytest.mark.parametrize("size", ["mini", "small"])
def test_shipped_configs_build_the_model_they_describe(tmp_path, size):
    token_list = tmp_path / "tokens.txt"
    token_list.write_text("\n".join(TOKENS) + "\n", encoding="utf-8")
    args = DMelLMTask.get_parser().parse_args(
        ["--config", str(CONF / f"dmel_{size}.yaml"), "--token_list", str(token_list), "--model_conf", "job=joint"]
    )
    model = DMelLMTask.build_model(args)
    assert model.job == "joint" and args.token_list == TOKENS
    cfg = model.lm.cfg
    assert (cfg.text_vocab_size, cfg.speech_vocab_size, cfg.n_channels) == (len(TOKENS), 19, 80)
    lm_conf = yaml.safe_load((CONF / f"dmel_{size}.yaml").read_text())["lm_conf"]
    assert all(getattr(cfg, k) == v for k, v in lm_conf.items())
    n = sum(p.numel() for p in model.parameters())
    assert n == count_parameters(DMelLMConfig(text_vocab_size=len(TOKENS), **lm_conf))


def test_derived_sizes_cannot_be_set_in_lm_conf(tmp_path):
    args = DMelLMTask.get_parser().parse_args(["--token_list", "x", "--lm_conf", "text_vocab_size=5"])
    args.token_list = TOKENS
    with pytest.raises(ValueError, match="text_vocab_size"):
        DMelLMTask.build_model(args)


def write_tiny(tmp_path, bin_table=None):
    args = DMelLMTask.get_parser().parse_args([
        "--token_list", "x", "--lm_conf", "{n_layer: 1, n_head: 2, n_embd: 16, channel_embd: 2, spk_embed_dim: 4}",
        "--dmel_conf", f"bin_table={bin_table}",
    ])
    args.token_list = TOKENS
    model = DMelLMTask.build_model(args)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(vars(args)), encoding="utf-8")
    torch.save(model.state_dict(), tmp_path / "model.pth")
    return model


def test_model_file_round_trip_is_strict_and_keeps_the_bin_table(tmp_path):
    table = uniform_bin_table(4) + np.linspace(0, 0.1, 16, dtype=np.float32)
    path = save_bin_table(tmp_path / "bins.npy", table)
    model = write_tiny(tmp_path, bin_table=path)
    path.unlink()  # e.g. a zip unpacked elsewhere: the checkpoint carries the table
    loaded, args = DMelLMTask.build_model_from_file(tmp_path / "config.yaml", tmp_path / "model.pth")
    np.testing.assert_allclose(loaded.tokenizer.bin_table.numpy(), table)
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), k
    with pytest.raises(FileNotFoundError):
        DMelLMTask.build_model_from_file(tmp_path / "config.yaml", None)
    state = torch.load(tmp_path / "model.pth")
    state.pop("lm.speech_head.bias")
    torch.save(state, tmp_path / "model.pth")
    with pytest.raises(RuntimeError, match="speech_head"):
        DMelLMTask.build_model_from_file(tmp_path / "config.yaml", tmp_path / "model.pth")


@pytest.mark.parametrize("size", ["mini", "small", "base", "large"])
def test_schedule_is_one_warmup_cosine_cycle_over_the_whole_run(size):
    """Appendix D: Adam, linear warmup to 1e-3, cosine decay; the cycle must span every update."""
    from espnet2.tasks.abs_task import scheduler_classes

    conf = yaml.safe_load((CONF / f"dmel_{size}.yaml").read_text())
    sched = conf["scheduler_conf"]
    total = conf["max_epoch"] * conf["num_iters_per_epoch"]
    assert sched["first_cycle_steps"] == total and sched["max_lr"] == 1e-3 and conf["optim"] == "adam"
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])
    scheduler = scheduler_classes[conf["scheduler"]](opt, **sched)
    lrs = []
    for _ in range(total):
        lrs.append(opt.param_groups[0]["lr"])
        scheduler.step()
    w = sched["warmup_steps"]
    assert lrs[w] == pytest.approx(1e-3) and max(lrs) == pytest.approx(1e-3)
    assert all(a <= b + 1e-12 for a, b in zip(lrs[:w], lrs[1 : w + 1]))  # rising during warmup
    assert all(a >= b - 1e-12 for a, b in zip(lrs[w:], lrs[w + 1 :]))  # falling after
    assert lrs[-1] < 0.01 * 1e-3 + sched["min_lr"]
