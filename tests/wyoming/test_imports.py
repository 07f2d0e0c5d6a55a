"""The satellites and the server are layered: satellites never import the server (which starts them)."""

import subprocess
import sys


def test_satellites_import_without_the_server():
    code = "import sys, assistant.wyoming.satellites; print('assistant.wyoming.server' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_an_address_is_read_the_same_by_both():
    from assistant.wyoming.address import parse_uri
    from assistant.wyoming.server import parse_uri as servers

    assert servers is parse_uri
    assert parse_uri("tcp://127.0.0.1:10700") == ("tcp", "127.0.0.1", 10700)
