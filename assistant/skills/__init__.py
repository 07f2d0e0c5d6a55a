"""The skill runtime: discovery by entry point, manifests, permissions and capabilities."""
