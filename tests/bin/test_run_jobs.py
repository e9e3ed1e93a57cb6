from espnet_ext.bin.run_jobs import main


def test_local_jobs_substitute_job_number_and_log(tmp_path):
    out = tmp_path / "out.JOB.txt"
    assert main(["JOB=1:3", str(tmp_path / "log" / "x.JOB.log"), "echo", "job", "JOB", ">", str(out)]) == 0
    assert [(tmp_path / f"out.{j}.txt").read_text() for j in (1, 2, 3)] == ["job 1\n", "job 2\n", "job 3\n"]
    log = (tmp_path / "log" / "x.2.log").read_text()
    assert log.startswith("# echo job 2") and "Ended (code 0)" in log


def test_a_failing_job_fails_the_run_and_names_its_log(tmp_path, capsys):
    code = main(["JOB=1:2", str(tmp_path / "x.JOB.log"), "test", "JOB", "-eq", "1"])
    assert code == 1
    assert "job 2 failed" in capsys.readouterr().err
    assert "Ended (code 1)" in (tmp_path / "x.2.log").read_text()


def test_a_rerun_keeps_the_old_single_log_and_overwrites_per_job_logs(tmp_path):
    train = tmp_path / "train.log"
    for word in ("first", "second", "third"):
        assert main([str(train), "echo", word]) == 0
        assert main(["JOB=1:1", str(tmp_path / "inference.JOB.log"), "echo", word]) == 0
    assert [(tmp_path / f"train{n}.log").read_text().splitlines()[3] for n in ("", ".1", ".2")] == [
        "third", "second", "first"]
    assert sorted(p.name for p in tmp_path.glob("inference*")) == ["inference.1.log"]
    assert "third" in (tmp_path / "inference.1.log").read_text()
