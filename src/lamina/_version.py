"""The package version, and the engine version that results are cached under."""

__version__ = "0.1.0"

# Bump when the engine's output for the same input and options changes.
ENGINE_VERSION = "2026-11-24"
