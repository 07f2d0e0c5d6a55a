from pathlib import Path

import pytest

from assistant.config import load_config
from assistant.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return path


def test_project_config_is_valid():
    config = load_config(Path(__file__).resolve().parent.parent / "config.yml")
    assert config.nlu.engine == "embedded"


def test_unknown_key_names_file_key_and_line(tmp_path):
    path = write(tmp_path, "user: me\nnlu:\n  engine: embedded\n  treshold: 0.5\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}:4: unknown key 'nlu.treshold'"


def test_bad_value_says_what_is_expected(tmp_path):
    path = write(tmp_path, "shop:\n  spending_cap: lots\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}:2: bad value for 'shop.spending_cap'")
    assert "number" in message


def test_broken_yaml_is_one_line(tmp_path):
    path = write(tmp_path, "nlu: [\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yml")


BAD = Path(__file__).resolve().parent / "data" / "bad"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("config_latin1.yml", ":3: not UTF-8 text (byte 0xe9); save the file as UTF-8"),
        ("config_utf16.yml", ":1: not UTF-8 text (byte 0xff)"),
        ("config_not_yaml.yml", ":1: not UTF-8 text (byte 0x89)"),
        ("config_deep.yml", ": nested too deeply to be a config file"),
    ],
)
def test_unreadable_config_is_one_line_naming_the_file(name, problem):
    with pytest.raises(ConfigError) as err:
        load_config(BAD / name)
    message = str(err.value)
    assert message.startswith(f"{BAD / name}{problem}") and "\n" not in message


def test_control_characters_are_one_line_too(tmp_path):
    path = tmp_path / "config.yml"
    path.write_bytes(b"user: me\x00\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: not valid YAML: unacceptable character #x0000 at position 8"


def test_a_byte_order_mark_is_not_an_error(tmp_path):
    path = tmp_path / "config.yml"
    path.write_bytes("\ufeffuser: me\n".encode())
    assert load_config(path).user == "me"


@pytest.mark.parametrize(
    ("window", "hour", "quiet"),
    [("22:00-07:00", 23, True), ("22:00-07:00", 3, True), ("22:00-07:00", 7, False), ("22:00-07:00", 12, False),
     ("13:00-14:30", 14, True), ("13:00-14:30", 15, False), (None, 3, False)],
)  # fmt: skip
def test_quiet_hours_wrap_midnight(tmp_path, window, hour, quiet):
    from datetime import datetime

    value = "null" if window is None else f'"{window}"'
    config = load_config(write(tmp_path, f"notifications:\n  quiet_hours: {value}\n"))
    assert config.notifications.quiet(datetime(2026, 3, 1, hour, 0)) is quiet


@pytest.mark.parametrize("window", ["25:00-07:00", "22:00", "late", "22:00-22:00", "7-9"])
def test_a_bad_quiet_hours_window_is_one_line_naming_config_yml(tmp_path, window):
    path = write(tmp_path, f'user: me\nnotifications:\n  quiet_hours: "{window}"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}:3: bad value for 'notifications.quiet_hours'") and "\n" not in message
    assert "HH:MM-HH:MM" in message or "same time" in message
