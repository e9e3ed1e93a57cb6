import zipfile
from pathlib import Path

import pytest
import yaml

from espnet_ext.zoo import PackError, pack_model, unpack_model, verify_zip


@pytest.fixture
def packed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("exp/m").mkdir(parents=True)
    Path("data").mkdir()
    Path("data/tokens.txt").write_text("<s>\na\n")
    Path("exp/m/config.yaml").write_text(yaml.safe_dump({"token_list": "data/tokens.txt", "x": 1}))
    Path("exp/m/model.pth").write_bytes(b"weights")
    return pack_model(
        "exp/m/model.zip",
        files={"model_file": "exp/m/model.pth"},
        yaml_files={"train_config": "exp/m/config.yaml"},
        option=["data/tokens.txt"],
    )


def _rewrite(src, dst, replace=None, add=None):
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for name in a.namelist():
            b.writestr(name, (replace or {}).get(name, a.read(name)))
        for name, data in (add or {}).items():
            b.writestr(name, data)
    return dst


def test_pack_records_checksums_and_unpacks_through_model_zoo(packed, tmp_path):
    meta = verify_zip(packed)
    assert set(meta["sha256"]) == {"exp/m/config.yaml", "exp/m/model.pth", "data/tokens.txt"}
    assert meta["versions"]["espnet_ext"] == "0.1.0"
    files = unpack_model(packed, cachedir=tmp_path / "cache")
    assert Path(files["model_file"]).read_bytes() == b"weights"
    config = yaml.safe_load(Path(files["train_config"]).read_text())
    # ESPnet rewrites paths of packed files inside the yaml to their unpacked location.
    assert Path(config["token_list"]).read_text() == "<s>\na\n" and Path(config["token_list"]).is_absolute()


@pytest.mark.parametrize("evil", ["../escape.txt", "/etc/evil", "a/../../b"])
def test_entries_escaping_the_target_are_rejected(packed, tmp_path, evil):
    bad = _rewrite(packed, tmp_path / "bad.zip", add={evil: b"x"})
    with pytest.raises(PackError, match="outside the target folder"):
        unpack_model(bad, cachedir=tmp_path / "cache")


def test_meta_listing_a_missing_file_is_rejected(packed, tmp_path):
    meta = yaml.safe_load(zipfile.ZipFile(packed).read("meta.yaml"))
    meta["files"]["extra"] = "exp/m/missing.pth"
    bad = _rewrite(packed, tmp_path / "bad.zip", replace={"meta.yaml": yaml.safe_dump(meta)})
    with pytest.raises(PackError, match="missing.pth"):
        verify_zip(bad)


def test_modified_file_fails_its_checksum(packed, tmp_path):
    bad = _rewrite(packed, tmp_path / "bad.zip", replace={"exp/m/model.pth": b"tampered"})
    with pytest.raises(PackError, match="checksum mismatch for 'exp/m/model.pth'"):
        verify_zip(bad)


def test_other_versions_are_reported(packed, tmp_path, caplog):
    meta = yaml.safe_load(zipfile.ZipFile(packed).read("meta.yaml"))
    meta["versions"]["torch"] = "1.0.0"
    other = _rewrite(packed, tmp_path / "other.zip", replace={"meta.yaml": yaml.safe_dump(meta)})
    verify_zip(other)
    assert "packed with torch 1.0.0" in caplog.text
