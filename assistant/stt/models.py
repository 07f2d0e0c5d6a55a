"""Vosk models: install from the official model list, a URL or a local archive; find the installed ones.

Models live in `<data dir>/models/vosk/<name>/`, with `installed.json` recording each one's
language and source. A download goes to `<name>.part` first, so an interrupted one resumes (HTTP
Range), and is checked against the size and MD5 that the model list publishes before it is unpacked;
nothing half-unpacked is ever left where the assistant looks for models.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError

MODEL_LIST_URL = "https://alphacephei.com/vosk/models/model-list.json"
"""The official list of Vosk models (name, url, size, md5, lang); ASSISTANT_VOSK_MODEL_LIST overrides."""
CHUNK = 1 << 20


class ModelError(AssistantError):
    """A model that cannot be downloaded, verified or unpacked."""


@dataclass(frozen=True)
class Listed:
    name: str
    url: str
    size: int | None
    md5: str | None
    lang: str


def models_dir(data_dir: Path) -> Path:
    return data_dir / "models" / "vosk"


def _manifest(data_dir: Path) -> dict[str, dict]:
    path = models_dir(data_dir) / "installed.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable ({exc}); delete it and install the models again") from exc


def installed(data_dir: Path) -> list[tuple[str, Path, str]]:
    """(name, folder, language) of every installed model, newest first."""
    out = []
    for name, info in _manifest(data_dir).items():
        folder = models_dir(data_dir) / name
        if folder.is_dir():
            out.append((name, folder, info.get("lang", "unknown"), info.get("installed", 0)))
    out.sort(key=lambda m: m[3], reverse=True)
    return [(name, folder, lang) for name, folder, lang, _ in out]


def default_model(data_dir: Path, *, english_only: bool) -> Path | None:
    """The newest installed model (an English one, when the assistant picks the engine itself)."""
    for _, folder, lang in installed(data_dir):
        if not english_only or lang.lower().startswith("en"):
            return folder
    return None


def model_list(url: str | None = None) -> list[Listed]:
    url = url or os.environ.get("ASSISTANT_VOSK_MODEL_LIST") or MODEL_LIST_URL
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            entries = json.load(resp)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ModelError(f"cannot read the Vosk model list at {url}: {_reason(exc)}{OFFLINE_HINT}") from exc
    return [
        Listed(e["name"], e["url"], int(e["size"]) if e.get("size") else None, e.get("md5"), e.get("lang", "unknown"))
        for e in entries
        if e.get("type") != "obsolete" and e.get("name") and e.get("url")
    ]


OFFLINE_HINT = (
    ". Offline? Download the model archive on another machine, copy it here and run: assistant models install FILE"
)


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "reason", None) or exc)


def install(source: str, data_dir: Path, *, progress: bool = True) -> Path:
    """Install a model by list NAME, archive URL, or local archive/folder PATH; returns its folder."""
    target_root = models_dir(data_dir)
    target_root.mkdir(parents=True, exist_ok=True)
    local = Path(source).expanduser()
    if local.exists():
        name, lang = _strip_archive_suffix(local.name), "unknown"
        folder = _unpack(local, target_root, name)
    else:
        if source.startswith(("http://", "https://")):
            listed = _find(source, by_url=True)
            name = listed.name if listed else _strip_archive_suffix(source.rstrip("/").rsplit("/", 1)[-1])
            url = source
        else:
            listed = _find(source, by_url=False, required=True)
            name, url = listed.name, listed.url
        lang = listed.lang if listed else "unknown"
        archive = target_root / f"{name}{_archive_suffix(url)}.part"
        _download(url, archive, listed.size if listed else None, progress)
        if listed and listed.md5:
            _check_md5(archive, listed.md5)
        folder = _unpack(archive, target_root, name)
        archive.unlink()
    manifest = _manifest(data_dir)
    manifest[name] = {"lang": lang, "source": source, "installed": time.time()}
    tmp = target_root / "installed.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2))
    os.replace(tmp, target_root / "installed.json")
    return folder


def _find(key: str, *, by_url: bool, required: bool = False) -> Listed | None:
    try:
        entries = model_list()
    except ModelError:
        if required:
            raise
        return None  # a plain URL still installs, checked by size and by unpacking
    for entry in entries:
        if (entry.url if by_url else entry.name) == key:
            return entry
    if required:
        close = [e.name for e in entries if key.lower() in e.name.lower()][:5]
        hint = f"; did you mean: {', '.join(close)}" if close else "; see https://alphacephei.com/vosk/models"
        raise ModelError(f"no Vosk model called {key!r} in the model list{hint}")
    return None


def _download(url: str, part: Path, size: int | None, progress: bool) -> None:
    from tqdm import tqdm

    have = part.stat().st_size if part.exists() else 0
    if size is not None and have == size:
        return  # finished earlier; only the checks remain
    if size is not None and have > size:
        part.unlink()
        have = 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        resp = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as exc:
        raise ModelError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ModelError(f"cannot download {url}: {_reason(exc)}{OFFLINE_HINT}") from exc
    with resp:
        if have and resp.status != 206:
            have = 0  # the server ignored the range: start again
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length else size
        mode = "ab" if have else "wb"
        with (
            part.open(mode) as out,
            tqdm(
                total=total, initial=have, unit="B", unit_scale=True, desc=part.name.removesuffix(".part"),
                disable=not progress, leave=True,
            ) as bar,
        ):  # fmt: skip
            try:
                while chunk := resp.read(CHUNK):
                    out.write(chunk)
                    bar.update(len(chunk))
            except (urllib.error.URLError, OSError) as exc:
                raise ModelError(
                    f"download of {url} interrupted ({_reason(exc)}): run the same command again to resume"
                ) from exc
    got = part.stat().st_size
    expected = size if size is not None else total
    if expected is not None and got != expected:
        raise ModelError(f"download of {url} is {got} bytes, expected {expected}: run the same command again to resume")


def _check_md5(path: Path, expected: str) -> None:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != expected.lower():
        path.unlink()
        raise ModelError(f"{path.name}: checksum mismatch (MD5 {digest.hexdigest()}, expected {expected}); deleted it")


def _archive_suffix(url: str) -> str:
    for suffix in (".tar.gz", ".tgz", ".zip"):
        if url.lower().endswith(suffix):
            return suffix
    return ".zip"


def _strip_archive_suffix(name: str) -> str:
    for suffix in (".part", ".tar.gz", ".tgz", ".zip"):
        name = name.removesuffix(suffix)
    return name


def _unpack(source: Path, target_root: Path, name: str) -> Path:
    """Unpack (or copy) into a temporary folder beside the target, check it, then move it in place."""
    final = target_root / name
    with tempfile.TemporaryDirectory(dir=target_root, prefix=".unpack-") as tmp:
        staging = Path(tmp) / "x"
        try:
            if source.is_dir():
                shutil.copytree(source, staging)
            elif zipfile.is_zipfile(source):
                with zipfile.ZipFile(source) as archive:
                    bad = archive.testzip()
                    if bad is not None:
                        raise ModelError(f"{source}: damaged archive (first bad file: {bad})")
                    for member in archive.namelist():
                        if member.startswith("/") or ".." in Path(member).parts:
                            raise ModelError(f"{source}: unsafe path in archive: {member}")
                    archive.extractall(staging)
            elif tarfile.is_tarfile(source):
                with tarfile.open(source) as archive:
                    archive.extractall(staging, filter="data")
            else:
                raise ModelError(f"{source}: not a model archive (.zip or .tar.gz) or folder")
        except (zipfile.BadZipFile, tarfile.TarError, OSError) as exc:
            raise ModelError(f"{source}: cannot unpack ({exc})") from exc
        root = _model_root(staging)
        if root is None:
            raise ModelError(f"{source}: not a Vosk model (no folder with am/ and conf/ in it)")
        if final.exists():
            shutil.rmtree(final)
        os.replace(root, final)
    return final


def _model_root(folder: Path) -> Path | None:
    for candidate in [folder, *sorted(p for p in folder.rglob("*") if p.is_dir())]:
        if (candidate / "am").is_dir() and (candidate / "conf").is_dir():
            return candidate
    return None
