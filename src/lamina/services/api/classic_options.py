"""The classic LlamaParse upload options (``llama-cloud-services`` 0.6 ``LlamaParse``) → a Parse v2
configuration. The one place where classic option names meet the engine.

Every classic form field is in exactly one table:

- **honoured** (``_HONOURED`` handlers): translated into the v2 configuration the engine reads;
- **ignored** (``IGNORED_OPTIONS``): tuning hints for LlamaCloud's own engine that do not ask for
  different content (``high_res_ocr``, ``adaptive_long_table``...). Lamina's output stays a
  correct parse without them; they are named back to the caller in the
  ``X-Lamina-Ignored-Options`` response header and kept in the job's ``raw_parameters``;
- **refused** (``REFUSED_OPTIONS``): options asking for content or side effects Lamina does not
  produce (prompts, structured output, S3 paths, chart extraction...). A truthy value → 400
  with the option and the reason, before anything is stored.

A field in none of the tables is refused too (``Unknown option``), so a newer client's option
is never dropped silently. Where the classic API and Parse v2 disagree, v2 wins: the options
become a v2 configuration and the job runs exactly like ``POST /api/v2/parse``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lamina.services.errors import InvalidRequestError

CLASSIC_PAGE_SEPARATOR = "\n---\n"
"""What the classic API put between pages when the client sent no ``page_separator``."""

# Classic parse modes that ask for a model on each page.
MODEL_PARSE_MODES = frozenset(
    {
        "parse_page_with_llm",
        "parse_page_with_lvm",
        "parse_page_with_agent",
        "parse_page_with_layout_agent",
        "parse_document_with_llm",
        "parse_document_with_lvm",
        "parse_document_with_agent",
    }
)
PRESET_TIERS = {
    "fast": "fast",
    "balanced": "cost_effective",
    "cost_effective": "cost_effective",
    "premium": "agentic",
    "agentic": "agentic",
    "agentic_plus": "agentic_plus",
}
CLASSIC_TIERS = ("fast", "cost_effective", "agentic", "agentic_plus")

# Sent by the client itself, not by the user: no meaning for the parse.
CLIENT_MARKERS = frozenset({"from_python_package", "from_cli", "from_llama_index"})

IGNORED_OPTIONS = frozenset(
    {
        "adaptive_long_table",
        "aggressive_table_extraction",
        "disable_reconstruction",
        "do_not_unroll_columns",
        "guess_xlsx_sheet_name",
        "high_res_ocr",
        "ignore_document_elements_for_layout_detection",
        "job_timeout_extra_time_per_page_in_seconds",
        "keep_page_separator_when_merging_tables",
        "layout_aware",
        "markdown_table_multiline_header_separator",
        "outlined_table_extraction",
        "page_footer_prefix",
        "page_footer_suffix",
        "page_header_prefix",
        "page_header_suffix",
        "precise_bounding_box",
        "presentation_out_of_bounds_content",
        "presentation_skip_embedded_data",
        "preserve_layout_alignment_across_pages",
        "preserve_very_small_text",
        "remove_hidden_text",
        "skip_diagonal_text",
        "spreadsheet_force_formula_computation",
        "strict_mode_buggy_font",
        "strict_mode_image_extraction",
        "strict_mode_image_ocr",
        "strict_mode_reconstruction",
        "input_s3_region",
        "output_s3_region",
        # Only sent with a value that changes nothing: the client defaults.
        "hide_headers",
        "hide_footers",
    }
)

_PROMPT = (
    "prompts need a model-driven parse, which Lamina does not run from classic options; use "
    "Parse v2 (POST /api/v2/parse) with tier agentic and LAMINA_MODEL_URL"
)
_OWN_MODEL = (
    "Lamina does not call a model with per-request keys or model names; start the server with "
    "LAMINA_MODEL_URL and send tier=agentic"
)
REFUSED_OPTIONS: dict[str, str] = {
    "parsing_instruction": _PROMPT,
    "user_prompt": _PROMPT,
    "system_prompt": _PROMPT,
    "system_prompt_append": _PROMPT,
    "complemental_formatting_instruction": _PROMPT,
    "content_guideline_instruction": _PROMPT,
    "formatting_instruction": _PROMPT,
    "is_formatting_instruction": _PROMPT,
    "structured_output": "structured output is not produced; use Extract v2 (POST /api/v2/extract)",
    "structured_output_json_schema": "structured output is not produced; use Extract v2",
    "structured_output_json_schema_name": "structured output is not produced; use Extract v2",
    "auto_mode": "auto mode (upgrading single pages to a model) is not supported; choose a tier",
    "auto_mode_configuration_json": "auto mode is not supported; choose a tier",
    "auto_mode_trigger_on_image_in_page": "auto mode is not supported; choose a tier",
    "auto_mode_trigger_on_table_in_page": "auto mode is not supported; choose a tier",
    "auto_mode_trigger_on_text_in_page": "auto mode is not supported; choose a tier",
    "auto_mode_trigger_on_regexp_in_page": "auto mode is not supported; choose a tier",
    "azure_openai_api_version": _OWN_MODEL,
    "azure_openai_deployment_name": _OWN_MODEL,
    "azure_openai_endpoint": _OWN_MODEL,
    "azure_openai_key": _OWN_MODEL,
    "vendor_multimodal_api_key": _OWN_MODEL,
    "vendor_multimodal_model_name": _OWN_MODEL,
    "use_vendor_multimodal_model": _OWN_MODEL,
    "model": _OWN_MODEL,
    "gpt4o_mode": _OWN_MODEL,
    "gpt4o_api_key": _OWN_MODEL,
    "bbox_top": "crop boxes are not applied by the engine",
    "bbox_bottom": "crop boxes are not applied by the engine",
    "bbox_left": "crop boxes are not applied by the engine",
    "bbox_right": "crop boxes are not applied by the engine",
    "bounding_box": "crop boxes are not applied by the engine",
    "input_s3_path": "S3 input is not supported; upload the file or give an http(s) input_url",
    "output_s3_path_prefix": "S3 output is not supported; fetch the results over the API",
    "extract_charts": "charts are not extracted",
    "specialized_chart_parsing_agentic": "charts are not extracted",
    "specialized_chart_parsing_efficient": "charts are not extracted",
    "specialized_chart_parsing_plus": "charts are not extracted",
    "specialized_image_parsing": "images are not described by a model",
    "extract_layout": "layout elements are not produced",
    "line_level_bounding_box": "line-level boxes are not produced (items carry one box each)",
    "output_pdf_of_document": "a PDF rendering of the document is not produced",
    "inline_images_in_markdown": "images are not inlined in the markdown",
    "take_screenshot_of_charts": "charts are not extracted",
}


@dataclass
class ClassicUpload:
    """A classic upload translated: the v2 create body and what was not used."""

    body: dict[str, Any]
    raw: dict[str, Any]
    ignored: list[str] = field(default_factory=list)


class ClassicOptionError(InvalidRequestError):
    """A classic option Lamina cannot honour (400 on the classic routes)."""


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise ClassicOptionError(f"Invalid value for {name}: {value!r} (expected true or false)")


def _number(name: str, value: Any, kind: type[int] | type[float] = float) -> float | int:
    try:
        number = kind(str(value).strip())
    except ValueError as exc:
        raise ClassicOptionError(
            f"Invalid value for {name}: {value!r} (expected a number)"
        ) from exc
    return number


def _truthy(value: Any) -> bool:
    """Is a refused option actually asked for? (``false``, ``""``, ``0`` are not asks.)"""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return text not in ("", "false", "0", "none", "null", "[]", "{}")


def one_based_target_pages(value: str) -> str:
    """Classic ``target_pages`` (0-based: ``"0,2-4"``) → v2's 1-based ``"1,3-5"``."""
    out = []
    for part in str(value).split(","):
        text = part.strip()
        if not text:
            continue
        try:
            if "-" in text:
                low, high = text.split("-", 1)
                out.append(f"{int(low) + 1}-{int(high) + 1}")
            else:
                out.append(str(int(text) + 1))
        except ValueError as exc:
            raise ClassicOptionError(
                f"Invalid target_pages: {value!r} (0-based page numbers and ranges, e.g. 0,2-4)"
            ) from exc
    if not out:
        raise ClassicOptionError(f"Invalid target_pages: {value!r}")
    return ",".join(out)


class _Builder:
    """Accumulates the v2 body while the classic fields are read."""

    def __init__(self) -> None:
        self.body: dict[str, Any] = {}
        self.images: dict[str, bool] = {}
        self.tier_from: dict[str, str] = {}

    def put(self, path: tuple[str, ...], value: Any) -> None:
        node = self.body
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value


Handler = Callable[[_Builder, str, Any], None]


def _to(*path: str, kind: str = "bool") -> Handler:
    def handle(builder: _Builder, name: str, value: Any) -> None:
        if kind == "bool":
            builder.put(path, _bool(name, value))
        elif kind == "int":
            builder.put(path, int(_number(name, value, int)))
        elif kind == "float":
            builder.put(path, float(_number(name, value)))
        else:
            builder.put(path, str(value))

    return handle


def _tier(builder: _Builder, name: str, value: Any) -> None:
    tier = str(value).strip().lower()
    if tier not in CLASSIC_TIERS:
        raise ClassicOptionError(
            f"Invalid value for tier: {value!r}. Must be one of: {', '.join(CLASSIC_TIERS)}"
        )
    builder.tier_from["tier"] = tier


def _preset(builder: _Builder, name: str, value: Any) -> None:
    preset = str(value).strip().lower()
    if preset not in PRESET_TIERS:
        raise ClassicOptionError(
            f"Unsupported preset: {value!r}. Lamina maps these presets to tiers: "
            f"{', '.join(sorted(PRESET_TIERS))}"
        )
    builder.tier_from["preset"] = PRESET_TIERS[preset]


def _parse_mode(builder: _Builder, name: str, value: Any) -> None:
    mode = str(value).strip()
    if mode == "parse_page_without_llm":
        builder.tier_from["parse_mode"] = "cost_effective"
    elif mode in MODEL_PARSE_MODES:
        builder.tier_from["parse_mode"] = "agentic"
    else:
        raise ClassicOptionError(f"Unsupported parse_mode: {value!r}")


def _flag_tier(tier: str) -> Handler:
    def handle(builder: _Builder, name: str, value: Any) -> None:
        if _bool(name, value):
            builder.tier_from[name] = tier

    return handle


def _version(builder: _Builder, name: str, value: Any) -> None:
    builder.body["version"] = str(value).strip() or "latest"


def _language(builder: _Builder, name: str, value: Any) -> None:
    languages = [part.strip() for part in str(value).split(",") if part.strip()]
    if languages:
        builder.put(("processing_options", "ocr_parameters", "languages"), languages)


def _target_pages(builder: _Builder, name: str, value: Any) -> None:
    builder.put(("page_ranges", "target_pages"), one_based_target_pages(str(value)))


def _max_pages(builder: _Builder, name: str, value: Any) -> None:
    pages = int(_number(name, value, int))
    if pages < 1:
        raise ClassicOptionError(f"Invalid value for max_pages: {value!r} (at least 1)")
    builder.put(("page_ranges", "max_pages"), pages)


def _timeout(builder: _Builder, name: str, value: Any) -> None:
    seconds = int(float(_number(name, value)))
    if not 1 <= seconds <= 7200:
        raise ClassicOptionError("job_timeout_in_seconds must be between 1 and 7200")
    builder.put(("processing_control", "timeouts", "base_in_seconds"), seconds)


def _image_flag(kind: str) -> Handler:
    def handle(builder: _Builder, name: str, value: Any) -> None:
        builder.images[name] = _bool(name, value)

    return handle


def _tables_as_html(builder: _Builder, name: str, value: Any) -> None:
    if _bool(name, value):
        builder.put(("output_options", "markdown", "tables", "output_tables_as_markdown"), False)


def _source_url(builder: _Builder, name: str, value: Any) -> None:
    builder.body["source_url"] = str(value)


def _webhook_url(builder: _Builder, name: str, value: Any) -> None:
    builder.body.setdefault("webhook_configurations", []).append({"webhook_url": str(value)})


def _webhook_configurations(builder: _Builder, name: str, value: Any) -> None:
    import json

    try:
        configs = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as exc:
        raise ClassicOptionError(f"webhook_configurations is not valid JSON: {exc.msg}") from exc
    if isinstance(configs, dict):
        configs = [configs]
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        raise ClassicOptionError("webhook_configurations must be a JSON list of objects")
    builder.body.setdefault("webhook_configurations", []).extend(configs)


def _extra(kind: str = "str") -> Handler:
    """A v1 name the v2 engine reads as it is (page options, cache flags)."""

    def handle(builder: _Builder, name: str, value: Any) -> None:
        if kind == "bool":
            builder.body[name] = _bool(name, value)
        elif kind == "float":
            builder.body[name] = float(_number(name, value))
        else:
            builder.body[name] = str(value)

    return handle


_HONOURED: dict[str, Handler] = {
    "tier": _tier,
    "preset": _preset,
    "parse_mode": _parse_mode,
    "fast_mode": _flag_tier("fast"),
    "premium_mode": _flag_tier("agentic"),
    "version": _version,
    "language": _language,
    "target_pages": _target_pages,
    "max_pages": _max_pages,
    "disable_ocr": _to("disable_ocr"),
    "annotate_links": _to("output_options", "markdown", "annotate_links"),
    "extract_printed_page_number": _to("output_options", "extract_printed_page_number"),
    "compact_markdown_table": _to(
        "output_options", "markdown", "tables", "compact_markdown_tables"
    ),
    "merge_tables_across_pages_in_markdown": _to(
        "output_options", "markdown", "tables", "merge_continued_tables"
    ),
    "continuous_mode": _to("output_options", "markdown", "tables", "merge_continued_tables"),
    "output_tables_as_HTML": _tables_as_html,
    "output_tables_as_html": _tables_as_html,
    "html_make_all_elements_visible": _to("input_options", "html", "make_all_elements_visible"),
    "html_remove_navigation_elements": _to("input_options", "html", "remove_navigation_elements"),
    "html_remove_fixed_elements": _to("input_options", "html", "remove_fixed_elements"),
    "spreadsheet_extract_sub_tables": _to(
        "input_options", "spreadsheet", "detect_sub_tables_in_sheets"
    ),
    "save_images": _image_flag("embedded"),
    "disable_image_extraction": _image_flag("embedded"),
    "take_screenshot": _image_flag("screenshot"),
    "job_timeout_in_seconds": _timeout,
    "input_url": _source_url,
    "http_proxy": _to("http_proxy", kind="str"),
    "webhook_url": _webhook_url,
    "webhook_configurations": _webhook_configurations,
    "page_separator": _extra(),
    "page_prefix": _extra(),
    "page_suffix": _extra(),
    "replace_failed_page_mode": _extra(),
    "replace_failed_page_with_error_message_prefix": _extra(),
    "replace_failed_page_with_error_message_suffix": _extra(),
    "page_error_tolerance": _extra("float"),
    "invalidate_cache": _extra("bool"),
    "do_not_cache": _extra("bool"),
}
HONOURED_OPTIONS = frozenset(_HONOURED)
_TIER_ORDER = ("tier", "preset", "parse_mode", "premium_mode", "fast_mode")


def translate_upload(form: Mapping[str, Any]) -> ClassicUpload:
    """Classic upload form fields (strings) → the Parse v2 create body.

    Raises :class:`ClassicOptionError` for a refused, unknown or malformed option, naming it.
    """
    raw = {k: v for k, v in form.items() if k != "file"}
    refused = [
        f"{name} ({REFUSED_OPTIONS[name]})"
        for name, value in raw.items()
        if name in REFUSED_OPTIONS and _truthy(value)
    ]
    unknown = sorted(
        name
        for name in raw
        if name not in _HONOURED
        and name not in IGNORED_OPTIONS
        and name not in REFUSED_OPTIONS
        and name not in CLIENT_MARKERS
    )
    if refused or unknown:
        parts = []
        if refused:
            parts.append("Options Lamina cannot honour: " + "; ".join(refused))
        if unknown:
            parts.append("Unknown options: " + ", ".join(unknown))
        raise ClassicOptionError(". ".join(parts) + ".")
    builder = _Builder()
    for name, value in raw.items():
        handler = _HONOURED.get(name)
        if handler is not None and value is not None:
            handler(builder, name, value)
    body = builder.body
    body["tier"] = next(
        (builder.tier_from[k] for k in _TIER_ORDER if k in builder.tier_from), "cost_effective"
    )
    body.setdefault("version", "latest")
    body.setdefault("page_separator", CLASSIC_PAGE_SEPARATOR)
    images = builder.images
    wanted = []
    if images.get("save_images", True) and not images.get("disable_image_extraction", False):
        wanted.append("embedded")
    if images.get("take_screenshot"):
        wanted.append("screenshot")
    body.setdefault("output_options", {})["images_to_save"] = wanted
    ignored = sorted(n for n, v in raw.items() if n in IGNORED_OPTIONS and _truthy(v))
    return ClassicUpload(body=body, raw=raw, ignored=ignored)
