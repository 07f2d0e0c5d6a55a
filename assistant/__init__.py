"""An offline, private voice assistant with pluggable skills."""

__version__ = "0.1.0"
