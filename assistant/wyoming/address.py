"""Wyoming addresses: ``tcp://HOST:PORT`` or ``unix:///path``, read once for the server and the satellites alike."""

from __future__ import annotations

from urllib.parse import urlparse

from assistant.errors import AssistantError

__all__ = ["parse_uri"]


def parse_uri(uri: str) -> tuple[str, str | None, int | None]:
    """tcp://HOST:PORT or unix:///path -> (scheme, host or path, port)."""
    parsed = urlparse(uri)
    if parsed.scheme == "tcp":
        try:
            port = parsed.port
        except ValueError:
            port = None
        if not parsed.hostname or port is None:
            raise AssistantError(f"{uri}: a Wyoming address is tcp://HOST:PORT, e.g. tcp://127.0.0.1:10700")
        return "tcp", parsed.hostname, port
    if parsed.scheme == "unix" and parsed.path:
        return "unix", parsed.path, None
    raise AssistantError(f"{uri}: a Wyoming address is tcp://HOST:PORT or unix:///path/to/socket")
