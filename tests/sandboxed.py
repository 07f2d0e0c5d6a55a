"""The mark for tests that need the skill sandbox: where bubblewrap cannot confine a skill, they skip with its reason."""

from __future__ import annotations

import pytest

from assistant.skills.sandbox import bwrap_available

needs_sandbox = pytest.mark.skipif(bwrap_available() is not None, reason=f"no sandbox here: {bwrap_available()}")
"""bwrap_available() really starts bubblewrap once, so a machine that has it but cannot create its
namespaces (a kernel without unprivileged user namespaces, or qemu-user) skips here instead of
failing; wherever it works (as on an x86 developer's machine) these tests run, and fail if broken."""
