"""The benchmarks' verdict: the comparison of the two sides' outputs is part of it. A speed ratio of
code that computes something else is INVALID, and the script exits non-zero."""
import importlib.util
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def common(monkeypatch):
    """benchmarks/common.py as the scripts import it (``import common``), with no INVALID recorded;
    OMP_WAIT_POLICY set so that importing it leaves this process's environment alone."""
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import common

    monkeypatch.setattr(common, "_INVALID", [])
    return common


def test_verdict_is_invalid_whenever_outputs_differ_and_met_only_at_the_target(common):
    same, differ = common.exact("hypotheses", True), common.exact("hypotheses", False)
    assert common.verdict(2.5, 2.0, same) == "MET"
    assert common.verdict(2.0, 2.0, same) == "MET"
    assert common.verdict(1.9, 2.0, same) == "NOT MET"
    assert common.verdict(9.0, 2.0, differ) == "INVALID"


def test_within_takes_the_tolerance_as_bound_and_never_passes_nan_or_inf(common):
    assert common.within("mel", 1e-4, 1e-4).equal and not common.within("mel", 1.1e-4, 1e-4).equal
    assert not common.within("mel", float("nan"), 1e-4).equal
    assert not common.within("mel", float("inf"), 1e-4).equal
    check = common.within("mel frames", 3e-6, 1e-4)
    assert str(check) == "mel frames identical (max |diff| <= 1e-04; max |diff| 3.00e-06)"


def test_report_prints_ratio_verdict_and_the_comparison_and_footer_exits_0(common, capsys):
    verdict = common.report("greedy", "transformers", [4.0, 4.0, 5.0], [2.0, 1.0, 2.0], 2.0,
                            outputs=common.exact("hypotheses", True))
    common.footer(0.0)
    out = capsys.readouterr().out
    assert verdict == "MET"
    assert "greedy: transformers 4 s, ours 2 s (median of 3; spread ours 1-2) -> ratio 2.00x " \
           "(target >= 2.0x: MET; hypotheses identical (exact))" in out
    assert "INVALID" not in out


def test_report_with_differing_outputs_prints_invalid_and_footer_exits_1(common, capsys):
    verdict = common.report("throughput", "dmel package", [1.0], [5.0], 2.0,
                            outputs=common.exact("tokens", False), higher_is_better=True)
    common.report("beam 5", "transformers", [4.0], [1.0], 2.0, outputs=common.exact("hypotheses", True))
    assert verdict == "INVALID"
    with pytest.raises(SystemExit) as exit_info:
        common.footer(0.0)
    out = capsys.readouterr().out
    assert exit_info.value.code == 1
    assert "ratio 5.00x (target >= 2.0x: INVALID; tokens DIFFER (exact))" in out
    assert out.splitlines()[-1] == "INVALID: the two sides' outputs differ in: throughput"


def test_a_check_without_timing_also_makes_the_run_invalid(common, capsys):
    assert common.check_outputs("5 s: CTC prefix scores", common.within("scores", 0.5, 1e-2)) is False
    with pytest.raises(SystemExit) as exit_info:
        common.footer(0.0)
    assert exit_info.value.code == 1
    assert "5 s: CTC prefix scores: scores DIFFER (max |diff| <= 1e-02; max |diff| 5.00e-01) -> INVALID" in \
        capsys.readouterr().out


def _dmel_tokenizer_script():
    spec = importlib.util.spec_from_file_location("bench_dmel_tokenizer", BENCHMARKS / "dmel_tokenizer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TINY = ["dmel_tokenizer.py", "--threads", "1", "--batch", "2", "--seconds", "0.5", "--repeat", "1"]


def test_the_dmel_tokenizer_benchmark_is_valid_on_our_tokenizer(common, monkeypatch, capsys):
    script = _dmel_tokenizer_script()
    monkeypatch.setattr(sys, "argv", TINY)
    threads = torch.get_num_threads()
    try:
        script.main()
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "tokens and lengths identical (exact))" in out and "INVALID" not in out


def test_the_dmel_tokenizer_benchmark_is_invalid_when_a_token_is_off_by_one(common, monkeypatch, capsys):
    from espnet_ext.dmel import DMelTokenizer

    encode = DMelTokenizer.encode

    def off_by_one(self, *args, **kwargs):
        tokens, lengths = encode(self, *args, **kwargs)
        tokens = tokens.clone()
        tokens[0, 1, 0] = (tokens[0, 1, 0] + 1) % 16
        return tokens, lengths

    monkeypatch.setattr(DMelTokenizer, "encode", off_by_one)
    script = _dmel_tokenizer_script()
    monkeypatch.setattr(sys, "argv", TINY)
    threads = torch.get_num_threads()
    try:
        with pytest.raises(SystemExit) as exit_info:
            script.main()
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert exit_info.value.code == 1
    assert "target >= 2.0x: INVALID; tokens and lengths DIFFER (exact)" in out
