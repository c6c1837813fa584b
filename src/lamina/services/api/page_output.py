"""How pages are put together into ``markdown_full``, and how many failed pages a job tolerates.

Parse v2 has no names for these; the LlamaParse v1 names are accepted as extra fields, at the
top level of the configuration or under ``output_options.markdown`` (which wins):

- ``page_separator`` (default ``"\\n\\n"``) between pages, ``page_prefix`` / ``page_suffix``
  around each page; ``{pageNumber}`` becomes the page's number (in the separator: the number of
  the page that follows, as LlamaParse does).
- ``replace_failed_page_mode``: what a failed page's slot in ``markdown_full`` holds:
  ``raw_text`` (whatever text the engine could still read, often empty), ``blank_page`` (an
  empty page, still wrapped in prefix/suffix), ``error_message`` (the page's error between
  ``replace_failed_page_with_error_message_prefix`` and ``..._suffix``). Unset: the page is
  left out of ``markdown_full``. ``markdown.json`` and ``items.json`` always hold a
  failed-page entry ``{page_number, success: false, error}``.
- ``page_error_tolerance`` (0-1): the share of pages that may fail before the job does;
  ``processing_control.job_failure_conditions.allowed_page_failure_ratio`` (v2) wins. Neither
  set: no limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lamina.types import ParseConfiguration

if TYPE_CHECKING:
    from lamina.engine.result import PageResult

FAILED_PAGE_MODES = ("raw_text", "blank_page", "error_message")
_PAGE_NUMBER = "{pageNumber}"
_STRING_OPTIONS = (
    "page_separator",
    "page_prefix",
    "page_suffix",
    "replace_failed_page_with_error_message_prefix",
    "replace_failed_page_with_error_message_suffix",
)


def _extras(config: ParseConfiguration) -> dict[str, Any]:
    """Extra (v1-style) fields at the top level, overridden by ``output_options.markdown``."""
    found = dict(config.model_extra or {})
    markdown = config.output_options.markdown if config.output_options else None
    if markdown is not None:
        found.update({k: v for k, v in (markdown.model_extra or {}).items() if v is not None})
    return found


@dataclass(frozen=True)
class PageOutputOptions:
    """The page options of one job (see the module docstring)."""

    separator: str = "\n\n"
    prefix: str = ""
    suffix: str = ""
    failed_page_mode: str | None = None
    error_prefix: str = ""
    error_suffix: str = ""

    @classmethod
    def from_config(cls, config: ParseConfiguration | None) -> PageOutputOptions:
        """Read the options; raises ``ValueError`` (naming the option) for a wrong value."""
        if config is None:
            return cls()
        extras = _extras(config)
        for name in _STRING_OPTIONS:
            value = extras.get(name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
        mode = extras.get("replace_failed_page_mode")
        if mode is not None and mode not in FAILED_PAGE_MODES:
            raise ValueError(
                f"replace_failed_page_mode must be one of: {', '.join(FAILED_PAGE_MODES)}"
            )
        separator = extras.get("page_separator")
        return cls(
            separator="\n\n" if separator is None else separator,
            prefix=extras.get("page_prefix") or "",
            suffix=extras.get("page_suffix") or "",
            failed_page_mode=mode,
            error_prefix=extras.get("replace_failed_page_with_error_message_prefix") or "",
            error_suffix=extras.get("replace_failed_page_with_error_message_suffix") or "",
        )

    def page_body(self, page: PageResult) -> str | None:
        """What ``page`` contributes to ``markdown_full`` (None: left out)."""
        if page.error is None:
            return page.markdown
        if self.failed_page_mode == "raw_text":
            return page.text
        if self.failed_page_mode == "blank_page":
            return ""
        if self.failed_page_mode == "error_message":
            return f"{self.error_prefix}{page.error}{self.error_suffix}"
        return None

    def join_markdown(self, pages: Sequence[PageResult]) -> str:
        """``markdown_full``: each page wrapped in prefix/suffix, separators between pages."""
        parts: list[str] = []
        for page in pages:
            body = self.page_body(page)
            if body is None:
                continue
            number = str(page.page_number)
            if parts:
                parts.append(self.separator.replace(_PAGE_NUMBER, number))
            parts.append(
                self.prefix.replace(_PAGE_NUMBER, number)
                + body
                + self.suffix.replace(_PAGE_NUMBER, number)
            )
        return "".join(parts)


def allowed_failure_ratio(config: ParseConfiguration) -> tuple[float | None, str]:
    """(the share of pages allowed to fail, the option that set it); (None, "") = no limit.

    Raises ``ValueError`` when ``page_error_tolerance`` is not a number from 0 to 1.
    """
    control = config.processing_control
    conditions = control.job_failure_conditions if control else None
    if conditions is not None and conditions.allowed_page_failure_ratio is not None:
        return conditions.allowed_page_failure_ratio, "allowed_page_failure_ratio"
    tolerance = (config.model_extra or {}).get("page_error_tolerance")
    if tolerance is None:
        return None, ""
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float):
        raise ValueError("page_error_tolerance must be a number from 0 to 1")
    if not 0 <= tolerance <= 1:
        raise ValueError("page_error_tolerance must be a number from 0 to 1")
    return float(tolerance), "page_error_tolerance"


def failure_message(
    failed: Mapping[int, str], parsed: int, ratio: float, allowed: float, option: str
) -> str:
    """The job's error when too many pages failed: counts, the limit, the pages, first error."""
    numbers = sorted(failed)
    shown = ", ".join(str(n) for n in numbers[:20]) + (", ..." if len(numbers) > 20 else "")
    first = failed[numbers[0]] if numbers else ""
    return (
        f"{len(numbers)} of {parsed} pages failed (ratio {ratio:.2f} > {option} {allowed:g}); "
        f"failed pages: {shown}. First error: {first}"
    )
