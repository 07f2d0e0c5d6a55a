"""The hub: one App serving many devices over HTTP and WebSocket (`assistant serve`)."""

from assistant.hub.server import create_hub, serve

__all__ = ["create_hub", "serve"]
