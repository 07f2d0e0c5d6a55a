"""`assistant listen`, `say` and `devices`: the microphone, the voice, the sound devices."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from assistant.cli.common import _app, _config, _emit
from assistant.errors import AssistantError

log = logging.getLogger("assistant")


def cmd_listen(args: argparse.Namespace) -> int:
    from assistant.voice import Voice, run_live, write_replies

    app = _app(args)
    if args.stt:
        app.config.voice.stt.engine = args.stt
    try:
        voice = Voice(app, app.conversation(user=getattr(args, "user", None)))
        if args.wav is None:
            from assistant.audio.devices import check_input, has_microphone

            if not has_microphone():
                raise AssistantError(
                    "no microphone found: use 'assistant chat' to type, or 'assistant listen --wav FILE'"
                )
            check_input(app.config.voice.audio.input_device, 16000)
            out = sys.stderr if args.json else sys.stdout
            try:
                run_live(
                    voice,
                    max_turns=args.max_turns,
                    show=lambda line: print(line, file=out, flush=True),
                    emit=_emit if args.json else None,
                )
            except KeyboardInterrupt:
                print(file=sys.stderr)
            return 0
        turns = []
        for spoken in voice.from_wav(Path(args.wav), speak=bool(args.reply_wav)):
            if args.reply_wav:
                turns.append(spoken)
            if args.json:
                _emit(spoken.to_json())
            else:
                print(f"heard: {spoken.transcript}")
                if spoken.turn:
                    print(f"  ({spoken.turn.intent}) {spoken.turn.reply}")
        if args.reply_wav:
            write_replies(turns, Path(args.reply_wav))
    finally:
        app.close()
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from assistant.audio.wav import write_wav
    from assistant.tts import create_synthesizer

    config = _config(args)
    audio, rate = create_synthesizer(config.voice.tts).synthesize(" ".join(args.text))
    if args.out:
        write_wav(Path(args.out), audio, rate)
        print(f"Wrote {args.out} ({len(audio) / rate:.1f} s)")
        return 0
    from assistant.audio.devices import _sd

    sd = _sd()
    try:
        sd.play(audio, rate, device=config.voice.audio.output_device)
        sd.wait()
    except Exception as exc:  # noqa: BLE001 - PortAudio's errors for a missing device vary
        raise AssistantError(f"cannot play sound ({exc}); use --out FILE to write a WAV instead") from exc
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from assistant.audio.devices import list_devices

    devices = list_devices()
    if not devices:
        print("No sound devices found.")
    for d in devices:
        kind = ", ".join(k for k, n in (("input", d["inputs"]), ("output", d["outputs"])) if n)
        print(f"{d['index']:>3}  {d['name']}  ({kind}, {d['default_rate']:.0f} Hz)")
    return 0
