"""Safe packing, the points tests/test_zoo.py leaves open: loading a zip packed by another version
reports every version that differs and still loads; a zip without checksums (plain ESPnet) says
its contents were not verified."""
import zipfile
from pathlib import Path

import yaml

from espnet_ext.zoo import current_versions, pack_model, unpack_model


def _pack(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    Path("exp").mkdir()
    Path("exp/config.yaml").write_text(yaml.safe_dump({"x": 1}))
    Path("exp/model.pth").write_bytes(b"weights")
    return pack_model(
        "exp/model.zip", files={"model_file": "exp/model.pth"}, yaml_files={"train_config": "exp/config.yaml"}
    )


def _with_meta(src: Path, dst: Path, edit) -> Path:
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for name in a.namelist():
            data = a.read(name)
            if name == "meta.yaml":
                meta = yaml.safe_load(data)
                edit(meta)
                data = yaml.safe_dump(meta)
            b.writestr(name, data)
    return dst


def test_loading_a_zip_of_other_versions_names_each_difference_and_still_loads(tmp_path, monkeypatch, caplog):
    packed = _pack(tmp_path, monkeypatch)
    older = {"espnet_ext": "0.0.1", "espnet": "202402", "torch": "2.1.0"}
    other = _with_meta(packed, tmp_path / "other.zip", lambda meta: meta["versions"].update(older))
    files = unpack_model(other, cachedir=tmp_path / "cache")
    here = current_versions()
    for key, version in older.items():
        assert f"was packed with {key} {version}; this environment has {here[key]}" in caplog.text
    assert Path(files["model_file"]).read_bytes() == b"weights"


def test_the_same_versions_load_without_a_version_warning(tmp_path, monkeypatch, caplog):
    unpack_model(_pack(tmp_path, monkeypatch), cachedir=tmp_path / "cache")
    assert "was packed with" not in caplog.text


def test_a_zip_without_checksums_loads_with_a_warning_that_it_was_not_verified(tmp_path, monkeypatch, caplog):
    packed = _pack(tmp_path, monkeypatch)
    plain = _with_meta(packed, tmp_path / "plain.zip", lambda meta: meta.pop("sha256"))
    files = unpack_model(plain, cachedir=tmp_path / "cache")
    assert "no checksums in meta.yaml (packed by another tool); contents not verified" in caplog.text
    assert Path(files["model_file"]).read_bytes() == b"weights"
