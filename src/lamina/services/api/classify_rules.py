"""The classify configuration (rules, mode, parsing limits) checked; shared by classify jobs and
saved ``classify_v2`` configurations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lamina.services.errors import ValidationFailed

MODES = ("FAST", "MULTIMODAL")


def check_classify_configuration(
    body: Any, loc: Sequence[str | int] = ("configuration",)
) -> dict[str, Any]:
    """A classify configuration checked: rules (at least one), mode, parsing configuration."""
    if not isinstance(body, Mapping):
        raise ValidationFailed.single(list(loc), "configuration must be an object", input=body)
    rules = body.get("rules")
    if not isinstance(rules, list) or not rules:
        raise ValidationFailed.single(
            [*loc, "rules"], "rules must be a list of at least one {type, description}", input=rules
        )
    for index, rule in enumerate(rules):
        if (
            not isinstance(rule, Mapping)
            or not isinstance(rule.get("type"), str)
            or not rule["type"].strip()
            or not isinstance(rule.get("description"), str)
        ):
            raise ValidationFailed.single(
                [*loc, "rules", index],
                "each rule needs a non-empty type and a description (strings)",
                input=rule,
            )
    mode = body.get("mode")
    if mode is not None and mode not in MODES:
        raise ValidationFailed.single([*loc, "mode"], "mode must be FAST or MULTIMODAL", input=mode)
    parsing = body.get("parsing_configuration")
    if parsing is not None:
        if not isinstance(parsing, Mapping):
            raise ValidationFailed.single(
                [*loc, "parsing_configuration"], "must be an object", input=parsing
            )
        pages = parsing.get("max_pages")
        if pages is not None and (
            isinstance(pages, bool) or not isinstance(pages, int) or pages < 1
        ):
            raise ValidationFailed.single(
                [*loc, "parsing_configuration", "max_pages"], "max_pages must be >= 1", input=pages
            )
        target = parsing.get("target_pages")
        if target is not None:
            from lamina.engine.errors import InvalidOptionError
            from lamina.engine.pages import parse_target_pages

            try:
                parse_target_pages(str(target), upto=0)
            except InvalidOptionError as exc:
                raise ValidationFailed.single(
                    [*loc, "parsing_configuration", "target_pages"], str(exc), input=target
                ) from exc
    return {
        **dict(body),
        "rules": [{"type": r["type"], "description": r["description"]} for r in rules],
    }
