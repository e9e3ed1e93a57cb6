import pytest

from espnet_ext.bin.merge_decode import main


def test_text_files_are_concatenated_sorted_and_binaries_left(tmp_path):
    for job, keys in ((1, ["b", "d"]), (2, ["a", "c"])):
        d = tmp_path / f"output.{job}" / "1best_recog"
        d.mkdir(parents=True)
        (d / "text").write_text("".join(f"{k} hyp {k}\n" for k in keys))
        (tmp_path / f"output.{job}" / "feats.ark").write_bytes(b"\0")
    assert main(["--out", str(tmp_path / "m"), str(tmp_path / "output.2"), str(tmp_path / "output.1")]) == 0
    assert (tmp_path / "m" / "1best_recog" / "text").read_text() == "a hyp a\nb hyp b\nc hyp c\nd hyp d\n"
    assert not (tmp_path / "m" / "feats.ark").exists()


def test_a_key_in_two_jobs_is_an_error(tmp_path):
    for job in (1, 2):
        (tmp_path / f"output.{job}").mkdir()
        (tmp_path / f"output.{job}" / "text").write_text("a x\n")
    with pytest.raises(SystemExit, match="'a'"):
        main(["--out", str(tmp_path / "m"), str(tmp_path / "output.1"), str(tmp_path / "output.2")])
