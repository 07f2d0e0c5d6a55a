"""Sound devices: list them, find a microphone, and say clearly when there is none."""

from __future__ import annotations

from assistant.errors import AudioError


def _sd():
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise AudioError(
            f"sound is not available ({exc}): apt-get install libportaudio2, then run scripts/install-voice.sh"
        ) from exc
    return sounddevice


def list_devices() -> list[dict]:
    sd = _sd()
    out = []
    for index, dev in enumerate(sd.query_devices()):
        out.append(
            {
                "index": index,
                "name": dev["name"],
                "inputs": dev["max_input_channels"],
                "outputs": dev["max_output_channels"],
                "default_rate": dev["default_samplerate"],
            }
        )
    return out


def has_microphone() -> bool:
    try:
        return any(d["inputs"] > 0 for d in list_devices())
    except AudioError:
        return False
    except Exception:  # noqa: BLE001 - PortAudio reports a missing sound card in many ways
        return False


def check_input(device: str | int | None, rate: int) -> None:
    sd = _sd()
    try:
        sd.check_input_settings(device=device, samplerate=rate, channels=1, dtype="int16")
    except Exception as exc:  # noqa: BLE001
        raise AudioError(
            f"microphone {device if device is not None else '(default)'} cannot record {rate} Hz mono: {exc}"
        ) from exc
