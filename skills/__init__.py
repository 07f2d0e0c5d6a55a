"""The built-in skills: written only against assistant.sdk, registered by entry point like any other."""
