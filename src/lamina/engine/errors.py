"""The engine's exceptions: one small tree, with messages meant for people.

::

    EngineError
     +-- UnsupportedFileTypeError   the bytes are a format the engine cannot parse (yet)
     +-- InvalidDocumentError       the bytes claim a format but are broken
     +-- EncryptedDocumentError     the document needs a password
     +-- InvalidOptionError         a malformed option (e.g. ``target_pages``); a ValueError too

A message becomes a failed job's ``error_message`` as it is, so each one says what went wrong
and, where it helps, what to do about it.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


class UnsupportedFileTypeError(EngineError):
    """The file's content is of a type the engine does not parse."""


class InvalidDocumentError(EngineError):
    """The file looks like a known type but cannot be read (corrupt, truncated, ...)."""


class EncryptedDocumentError(EngineError):
    """The document is protected by a password the engine was not given."""


class InvalidOptionError(EngineError, ValueError):
    """A parse option is malformed, e.g. ``target_pages="3-1"``."""
