"""Engine `rasa`: real Rasa 3.6 trained from the same data, served by `rasa run --enable-api`.

Rasa lives in its own environment (./.venv-rasa, see scripts/install-rasa.sh). The assistant exports
the merged training data as a Rasa project, trains it once per data hash, starts the server on a
free loopback port, queries POST /model/parse, and stops the server on exit. A small watchdog
wrapper kills the server if the assistant itself dies, so no Rasa process is ever orphaned.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from assistant.config import REPO_ROOT
from assistant.errors import EngineNotAvailable, TrainingDataError
from assistant.nlu.cache import TEMP_PREFIX, remove_stale_temporaries
from assistant.nlu.data import TrainingData
from assistant.nlu.parse import IntentScore, Parse

log = logging.getLogger(__name__)

DEFAULT_EPOCHS = 40


def default_pipeline(epochs: int = DEFAULT_EPOCHS) -> list[dict[str, Any]]:
    return [
        {"name": "WhitespaceTokenizer"},
        {"name": "RegexFeaturizer", "case_sensitive": False},
        {"name": "LexicalSyntacticFeaturizer"},
        {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
        {"name": "DIETClassifier", "epochs": epochs, "constrain_similarities": True, "random_seed": 1},
        {"name": "EntitySynonymMapper"},
        {"name": "FallbackClassifier", "threshold": 0.3},
    ]


def default_venv() -> Path:
    return Path(os.environ.get("ASSISTANT_RASA_VENV") or REPO_ROOT / ".venv-rasa")


def rasa_installed(venv: Path | None = None) -> bool:
    return (Path(venv or default_venv()) / "bin" / "rasa").exists()


# -- export -------------------------------------------------------------------------------------
def _annotate(text: str, spans) -> str:
    out, pos = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        literal = text[span.start : span.end]
        out.append(text[pos : span.start])
        if span.role or span.group or span.value != literal:
            meta = {"entity": span.entity}
            if span.value != literal:
                meta["value"] = span.value
            if span.role:
                meta["role"] = span.role
            if span.group:
                meta["group"] = span.group
            out.append(f"[{literal}]{json.dumps(meta)}")
        else:
            out.append(f"[{literal}]({span.entity})")
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def with_response_selector(pipeline: list[dict[str, Any]], data: TrainingData, epochs: int) -> list[dict[str, Any]]:
    """Rasa answers retrieval intents (``faq/ask_price``) only with a ResponseSelector in the pipeline.

    It goes after the intent classifier, as Rasa 3.6's docs place it; a pipeline that has one
    already is left as written.
    """
    if not data.retrieval_intents or any(c.get("name") == "ResponseSelector" for c in pipeline):
        return pipeline
    names = [c.get("name") for c in pipeline]
    at = names.index("DIETClassifier") + 1 if "DIETClassifier" in names else len(pipeline)
    if "FallbackClassifier" in names[:at]:
        at = names.index("FallbackClassifier")
    return [*pipeline[:at], {"name": "ResponseSelector", "epochs": epochs}, *pipeline[at:]]


class _Block(str):
    """A YAML literal block (`examples: |`)."""


yaml.add_representer(
    _Block,
    lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|"),
    Dumper=yaml.SafeDumper,
)


def _block(items: list[str]) -> _Block:
    return _Block("".join(f"- {item}\n" for item in items))


def export_project(
    data: TrainingData, out_dir: Path, pipeline: list[dict[str, Any]] | None = None, epochs: int = DEFAULT_EPOCHS
) -> Path:
    """Write data/nlu.yml, domain.yml and config.yml: a Rasa project `rasa train nlu` accepts."""
    out_dir = Path(out_dir)
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    by_intent: dict[str, list[str]] = defaultdict(list)
    roles: dict[str, set[str]] = defaultdict(set)
    groups: dict[str, set[str]] = defaultdict(set)
    for example in data.examples:
        # a retrieval intent is written whole (faq/ask_price); Rasa splits it itself
        by_intent[example.full_intent].append(_annotate(example.text, example.entities))
        for span in example.entities:
            roles[span.entity]
            if span.role:
                roles[span.entity].add(span.role)
            if span.group:
                groups[span.entity].add(span.group)
    nlu: list[dict[str, Any]] = [
        {"intent": name, "examples": _block(texts)} for name, texts in sorted(by_intent.items())
    ]
    synonyms: dict[str, list[str]] = defaultdict(list)
    for surface, canonical in sorted(data.synonyms.items()):
        if surface != canonical.lower():
            synonyms[canonical].append(surface)
    nlu += [{"synonym": canonical, "examples": _block(surfaces)} for canonical, surfaces in sorted(synonyms.items())]
    nlu += [{"lookup": name, "examples": _block(sorted(set(values)))} for name, values in sorted(data.lookups.items())]
    nlu += [{"regex": name, "examples": _block(patterns)} for name, patterns in sorted(data.regexes.items())]
    dump = lambda obj: yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, width=1000)  # noqa: E731
    (out_dir / "data" / "nlu.yml").write_text(dump({"version": "3.1", "nlu": nlu}), encoding="utf-8")
    entities: list[Any] = []
    for name, r in sorted(roles.items()):
        details = {k: sorted(v) for k, v in (("roles", r), ("groups", groups[name])) if v}
        entities.append({name: details} if details else name)
    for name in sorted(set(data.lookups) | set(data.regexes)):
        if name not in roles:
            entities.append(name)
    domain = {"version": "3.1", "intents": data.intents, "entities": entities}
    (out_dir / "domain.yml").write_text(dump(domain), encoding="utf-8")
    config = {
        "recipe": "default.v1",
        "language": "en",
        "assistant_id": "shopper",
        "pipeline": with_response_selector(pipeline or default_pipeline(epochs), data, epochs),
        "policies": [],
    }
    (out_dir / "config.yml").write_text(dump(config), encoding="utf-8")
    return out_dir


# -- the engine ---------------------------------------------------------------------------------
_WATCHDOG = """
import os, signal, subprocess, sys, time
parent = int(sys.argv[1])
child = subprocess.Popen(sys.argv[2:])
def stop(*_):
    child.terminate()
    try:
        child.wait(10)
    except subprocess.TimeoutExpired:
        child.kill()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while child.poll() is None:
    if os.getppid() != parent:
        stop()
    time.sleep(0.5)
sys.exit(child.returncode)
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    useful = [ln for ln in text if ln.strip()][-lines:]
    return " | ".join(ln.strip() for ln in useful)


_EPOCHS = re.compile(rb"Epochs:\s+(\d+)%")


def _follow_training(proc: subprocess.Popen, log_file: BinaryIO) -> None:
    """Keep Rasa's whole output in the log; show its epoch progress every 10%."""
    shown = -10
    assert proc.stdout is not None
    while chunk := proc.stdout.read1(65536):
        log_file.write(chunk)
        for percent in _EPOCHS.findall(chunk):
            if int(percent) >= shown + 10:
                shown = int(percent) // 10 * 10
                log.info("Rasa training: %d%% of the epochs", shown)
    proc.wait()


class RasaEngine:
    """Rasa as an NLU engine: same `train(data, cache_dir)` and `parse(text) -> Parse` as `embedded`."""

    name = "rasa"

    def __init__(
        self,
        pipeline: list[dict[str, Any]] | None = None,
        epochs: int | None = None,
        venv: Path | None = None,
        startup_timeout: float = 180.0,
    ) -> None:
        self.epochs = epochs or DEFAULT_EPOCHS
        self.pipeline = pipeline or default_pipeline(self.epochs)
        self.venv = Path(venv or default_venv())
        self.startup_timeout = startup_timeout
        self.model: Path | None = None
        self.workdir: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._port = 0
        self._restarted = False
        if not rasa_installed(self.venv):
            raise EngineNotAvailable(
                f"NLU engine 'rasa' is not installed in {self.venv}: run scripts/install-rasa.sh "
                "(or ./run.sh without --no-rasa), or use --engine embedded"
            )

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(
            {
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "RASA_TELEMETRY_ENABLED": "false",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                "LOG_LEVEL": "INFO",
            }
        )
        return env

    # -- training -----------------------------------------------------------------------------
    def train(self, data: TrainingData, cache_dir: Path) -> None:
        fingerprint = data.fingerprint(extra=("rasa", self.pipeline))
        self.workdir = Path(cache_dir) / "rasa" / fingerprint
        model = self.workdir / "models" / f"nlu-{fingerprint}.tar.gz"
        if not model.exists():
            self._train_into(data, model)
        self.model = model
        self.start()

    def _train_into(self, data: TrainingData, model: Path) -> None:
        """Train in a folder of this process's own, then rename the model into place.

        Two assistants starting at once on an empty cache both train, and neither sees the
        other's half-written project or model; the last rename wins with identical content.
        """
        assert self.workdir is not None
        self.workdir.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.workdir)
        work = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=self.workdir))
        try:
            export_project(data, work, self.pipeline, self.epochs)
            log.info("training Rasa NLU in %s", work)
            # a warning so the CLI shows it by default: minutes of silence would look like a hang
            log.warning(
                "training Rasa NLU (%d examples, %d epochs); this takes a few minutes (-v shows progress)",
                len(data.examples),
                self.epochs,
            )
            train_log = work / "train.log"
            with train_log.open("wb") as fh:
                proc = subprocess.Popen(
                    [str(self.venv / "bin" / "rasa"), "train", "nlu", "--config", "config.yml", "--nlu", "data/nlu.yml", "--domain", "domain.yml", "--out", "models", "--fixed-model-name", model.name.removesuffix(".tar.gz")],
                    cwd=work, env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )  # fmt: skip
                _follow_training(proc, fh)
            trained = work / "models" / model.name
            if proc.returncode != 0 or not trained.exists():
                shutil.copyfile(train_log, self.workdir / "train.log")
                raise TrainingDataError(f"rasa train nlu failed in {self.workdir}: {_tail(train_log)}")
            model.parent.mkdir(parents=True, exist_ok=True)
            for name in ("config.yml", "domain.yml", "train.log"):
                os.replace(work / name, self.workdir / name)
            os.replace(trained, model)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    # -- serving ------------------------------------------------------------------------------
    def start(self) -> None:
        assert self.model is not None and self.workdir is not None
        self.close()
        self._port = _free_port()
        server_log = self.workdir / "server.log"
        rasa = [
            str(self.venv / "bin" / "rasa"),
            "run",
            "--enable-api",
            "-m",
            str(self.model),
            "-i",
            "127.0.0.1",
            "-p",
            str(self._port),
        ]
        started = time.monotonic()
        with server_log.open("w") as fh:
            self._proc = subprocess.Popen(
                [str(self.venv / "bin" / "python"), "-c", _WATCHDOG, str(os.getpid()), *rasa],
                cwd=self.workdir, env=self._env(), stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        atexit.register(self.close)
        deadline = started + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = _tail(server_log)
                self._proc = None
                if "address already in use" in tail.lower():
                    raise EngineNotAvailable(f"Rasa could not use port {self._port} on 127.0.0.1 (in use); try again")
                raise EngineNotAvailable(f"the Rasa server stopped while starting (model {self.model}): {tail}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self._port}/status", timeout=2) as answer:
                    if answer.status == 200:
                        log.info("Rasa server ready on port %d in %.1f s", self._port, time.monotonic() - started)
                        self.startup_seconds = time.monotonic() - started
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.5)
        tail = _tail(server_log)
        self.close()
        raise EngineNotAvailable(f"the Rasa server did not answer within {self.startup_timeout:.0f} s: {tail}")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def parse(self, text: str) -> Parse:
        body = json.dumps({"text": text}).encode()
        for attempt in (1, 2):
            if self._proc is None or self._proc.poll() is not None:
                if attempt == 2 or self._restarted:
                    raise EngineNotAvailable(
                        "the Rasa server stopped and could not be restarted; use --engine embedded"
                    )
                log.error("the Rasa server stopped; restarting it")
                self._restarted = True
                self.start()
            request = urllib.request.Request(
                f"http://127.0.0.1:{self._port}/model/parse", data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=15) as answer:
                    result = json.loads(answer.read())
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                if self._proc is not None and self._proc.poll() is None:
                    raise EngineNotAvailable(f"the Rasa server did not answer: {exc}") from exc
        parse = Parse.from_rasa(result)
        if parse.intent.name == "nlu_fallback":  # Rasa's FallbackClassifier: not sure
            ranked = [r for r in parse.ranking if r.name != "nlu_fallback"]
            top = ranked[0].confidence if ranked else 0.0
            parse = Parse(parse.text, IntentScore("out_of_scope", top), ranked, parse.entities, parse.response_selector)
        return parse

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        except ProcessLookupError:
            pass
