"""Model-zoo zips: packing with checksums, and safe verification before unpacking.

Packing goes through ``espnet2.main_funcs.pack_funcs.pack`` (ESPnet's format, so
``espnet_model_zoo`` unpacks our zips); ``meta.yaml`` is then extended with a sha256 per file and
the versions of espnet_ext / espnet / torch. ``unpack_model`` verifies a zip (no entry may escape
the target folder, every file meta.yaml lists must be present with its checksum) and then unpacks
it through ``espnet_model_zoo.downloader.ModelDownloader``.
"""
import hashlib
import logging
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import yaml

META = "meta.yaml"


class PackError(RuntimeError):
    """A model zip is malformed or unsafe (names the zip and the entry)."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def current_versions() -> dict:
    import espnet
    import torch

    from espnet_ext import __version__

    return {"espnet_ext": __version__, "espnet": espnet.__version__, "torch": str(torch.__version__)}


def pack_model(out_zip, files: dict, yaml_files: dict, option=()) -> Path:
    """Pack like ESPnet, then add ``sha256`` and ``versions`` to meta.yaml. Paths stay relative to cwd."""
    from espnet2.main_funcs.pack_funcs import pack

    out_zip = Path(out_zip)
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.zip"
        pack(files=files, yaml_files=yaml_files, outpath=raw, option=option)
        partial = out_zip.with_name(out_zip.name + ".tmp")
        with zipfile.ZipFile(raw) as src, zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as dst:
            meta = yaml.safe_load(src.read(META))
            meta["sha256"] = {n: _sha256(src.read(n)) for n in src.namelist() if n != META}
            meta["versions"] = current_versions()
            dst.writestr(META, yaml.safe_dump(meta))
            for name in src.namelist():
                if name != META:
                    dst.writestr(name, src.read(name))
        partial.replace(out_zip)
    return out_zip


def _check_entry_name(zip_path, name: str) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith(("/", "\\")) or ".." in path.parts or ":" in path.parts[0]:
        raise PackError(f"{zip_path}: entry {name!r} would be written outside the target folder")


def verify_zip(zip_path) -> dict:
    """Check a model zip before unpacking; return its meta.yaml. Version differences are logged."""
    zip_path = Path(zip_path)
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as err:
        raise PackError(f"{zip_path}: not a zip file ({err})") from err
    with archive:
        names = archive.namelist()
        for name in names:
            _check_entry_name(zip_path, name)
        if META not in names:
            raise PackError(f"{zip_path}: no {META} (not an ESPnet model-zoo zip)")
        meta = yaml.safe_load(archive.read(META))
        listed = list((meta.get("files") or {}).values()) + list((meta.get("yaml_files") or {}).values())
        for path in listed:
            _check_entry_name(zip_path, path)
            if path not in names:
                raise PackError(f"{zip_path}: {META} lists {path!r}, which is not in the zip")
        for name, digest in (meta.get("sha256") or {}).items():
            if name not in names:
                raise PackError(f"{zip_path}: checksummed file {name!r} is missing")
            if _sha256(archive.read(name)) != digest:
                raise PackError(f"{zip_path}: checksum mismatch for {name!r} (corrupted or modified)")
        if "sha256" not in meta:
            logging.warning("%s: no checksums in %s (packed by another tool); contents not verified", zip_path, META)
    here = current_versions()
    for key, packed in (meta.get("versions") or {}).items():
        if key in here and str(packed) != here[key]:
            logging.warning("%s was packed with %s %s; this environment has %s", zip_path, key, packed, here[key])
    return meta


def unpack_model(model_tag, cachedir=None) -> dict:
    """A local zip (verified) or a model-zoo name -> the unpacked files' dict from ModelDownloader."""
    from espnet_model_zoo.downloader import ModelDownloader

    if Path(str(model_tag)).is_file():
        verify_zip(model_tag)
        model_tag = str(Path(model_tag).absolute())
    return ModelDownloader(cachedir).download_and_unpack(model_tag)

