"""The one exception hierarchy: every message names the file, key or skill a user can act on."""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant reports to a user."""


class ConfigError(AssistantError):
    """config.yml is missing, unreadable or has a bad key or value."""


class TrainingDataError(AssistantError):
    """A Rasa-format training data file cannot be read or is malformed."""


class EngineNotAvailable(AssistantError):
    """An engine named in config or on the command line is not installed or cannot start."""


class StoreError(AssistantError):
    """The data directory or the database cannot be used."""


class ImportRowError(AssistantError):
    """A catalogue row is invalid."""


class SkillError(AssistantError):
    """A skill failed to load, declared something invalid, or misbehaved."""


class PermissionDenied(SkillError):
    """A skill used a capability its manifest does not grant."""


class SkillCrashed(SkillError):
    """A skill raised, exited, returned something that is not a reply, or its worker died."""


class SkillTimedOut(SkillError):
    """A skill did not answer in time; its work was abandoned (and its worker stopped)."""


class AudioError(AssistantError):
    """An audio file or device cannot be used."""
