"""A conversation opens no network connection beyond this machine."""

import ipaddress
import socket
import sys

from assistant.testing import Chat

_seen: list[object] = []
_armed = [False]


def _hook(event: str, args: tuple) -> None:
    if _armed[0] and event in ("socket.connect", "socket.sendto", "socket.getaddrinfo"):
        _seen.append((event, args[1] if event != "socket.getaddrinfo" else args[0]))


sys.addaudithook(_hook)


def _is_local(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str) or host.startswith("/") or host == "localhost":
        return True  # unix sockets and loopback names
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def test_conversation_stays_on_this_machine(tmp_path):
    _armed[0] = True
    try:
        with Chat(tmp_path) as chat:
            for text in [
                "do you have oat milk",
                "add the first one",
                "check out",
                "yes",
                "what do you recommend",
                "why",
                "surprise me",
                "order the usual",
                "no",
            ]:
                chat.say(text)
    finally:
        _armed[0] = False
    remote = [s for s in _seen if not _is_local(s[1])]
    assert remote == []


def test_guard_really_sees_connections():
    # raise the audit event by hand: a real connection to a remote address must never be made here
    _armed[0] = True
    try:
        with socket.socket() as s:
            sys.audit("socket.connect", s, ("192.0.2.1", 9))
    finally:
        _armed[0] = False
    assert any(not _is_local(addr) for _, addr in _seen)
