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

    SPOKEN = "Sorry, I couldn't reach your shopping data, so I haven't done that."

    @property
    def spoken(self) -> str:
        """One sentence for the user; the message (for the log) names the file and the cause."""
        return self.SPOKEN


class StoreBusy(StoreError):
    """Another program or device held the database past the busy timeout."""

    SPOKEN = "Sorry, your shopping data is busy with another device, so I haven't done that. Please try again."


class StoreGone(StoreBusy):
    """The database server did not answer (restarting, or the network to it is down): try again."""

    SPOKEN = "Sorry, I couldn't reach your shopping data just now, so I haven't done that. Please try again."


class StoreFull(StoreError):
    """The disk holding the database is full."""

    SPOKEN = "Sorry, the disk is full, so I couldn't save anything and haven't done that."


class StoreCorrupt(StoreError):
    """The database file is damaged or is not a database."""

    SPOKEN = "Sorry, your shopping data file is damaged, so I can't do that. The log says how to fix it."


class StoreReadOnly(StoreError):
    """The database or its folder cannot be written."""

    SPOKEN = "Sorry, your shopping data is read-only, so I can't change anything. The log says which file."


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


class MemberNeeded(AssistantError):
    """A skill on a household device reached for one person's account: the core asks who is speaking."""
