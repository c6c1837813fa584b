"""Runs the unmodified classic ``LlamaParse`` class against a Lamina server and prints what it
returned, as JSON, one scenario per key.

Executed by ``test_classic_client.py`` with the Python of the separate venv that holds the
pinned ``llama-cloud-services`` (its pins clash with ours). Nothing here checks anything: the
pytest side compares these results with the server's own Parse v2 results.

Usage: ``python driver.py BASE_URL API_KEY DOCS_DIR OUT_JSON``
"""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

warnings.simplefilter("ignore")

from llama_cloud import ExtractConfig  # noqa: E402
from llama_cloud_services import LlamaExtract, LlamaParse, SourceText  # noqa: E402
from llama_index.readers.llama_parse import LlamaParse as ReaderLlamaParse  # noqa: E402

BASE, KEY, DOCS, OUT = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])


def parser(**options: Any) -> LlamaParse:
    """A fresh client per call: the class keeps one httpx client bound to the first loop."""
    options.setdefault("verbose", False)
    options.setdefault("show_progress", False)
    options.setdefault("ignore_errors", False)
    options.setdefault("check_interval", 1)
    options.setdefault("max_check_interval", 1)
    return LlamaParse(api_key=KEY, base_url=BASE, **options)


def docs_out(documents: list[Any]) -> list[dict[str, Any]]:
    return [{"text": d.text, "metadata": d.metadata} for d in documents]


def scenario_load(result_type: str, split: bool, mode: str) -> Any:
    p = parser(result_type=result_type, split_by_page=split)
    path = str(DOCS / "multipage.pdf")
    if mode == "async":
        return docs_out(asyncio.run(p.aload_data(path)))
    return docs_out(p.load_data(path))


def scenario_bytes() -> Any:
    data = (DOCS / "multipage.pdf").read_bytes()
    return docs_out(
        parser(result_type="markdown").load_data(data, extra_info={"file_name": "m.pdf"})
    )


def scenario_list() -> Any:
    paths = [str(DOCS / "multipage.pdf"), str(DOCS / "headings.pdf")]
    return docs_out(parser(result_type="markdown", split_by_page=False).load_data(paths))


def scenario_json(mode: str) -> Any:
    p = parser(take_screenshot=True)
    path = str(DOCS / "picture.pdf")
    if mode == "async":
        return asyncio.run(p.aget_json(path))
    return p.get_json_result(path)


def scenario_images(download: Path) -> Any:
    json_result = parser(take_screenshot=True).get_json_result(str(DOCS / "picture.pdf"))
    images = parser().get_images(json_result, str(download))
    return [
        {"name": i["name"], "path": i["path"], "size": Path(i["path"]).stat().st_size}
        for i in images
    ]


def scenario_job_result() -> Any:
    """``parse()`` → ``JobResult``. Its sync getters share the parser's httpx client across
    event loops (a client-side limitation), so the whole scenario runs on one loop."""

    async def run() -> dict[str, Any]:
        p = parser(take_screenshot=True)
        result = await p.aparse(str(DOCS / "picture.pdf"))
        assert not isinstance(result, list)
        again = await p.aget_result(result.job_id)  # a previous job, fetched again
        assert not isinstance(again, list)
        return {
            "job_id": result.job_id,
            "markdown_pages": docs_out(result.get_markdown_documents(split_by_page=True)),
            "text_pages": docs_out(result.get_text_documents(split_by_page=True)),
            "raw_markdown": await result.aget_markdown(),
            "raw_text": await result.aget_text(),
            "image_names": result.get_image_names(),
            "object_images": len(
                await result.aget_image_documents(include_screenshot_images=False)
            ),
            "screenshots": len(await result.aget_image_documents(include_object_images=False)),
            "again_pages": len(again.pages),
        }

    return asyncio.run(run())


def scenario_options() -> Any:
    p = parser(result_type="markdown", target_pages="0,2", page_separator="\n<<{pageNumber}>>\n")
    return docs_out(p.load_data(str(DOCS / "multipage.pdf")))


def scenario_partitioned() -> Any:
    """``partition_pages``: one job per 2 pages, 0-based target ranges, joined by the client."""
    p = parser(result_type="markdown", partition_pages=2, split_by_page=False)
    return docs_out(p.load_data(str(DOCS / "multipage.pdf")))


def scenario_refused(ignore_errors: bool) -> Any:
    p = parser(parsing_instruction="Summarise every page", ignore_errors=ignore_errors)
    return docs_out(p.load_data(str(DOCS / "multipage.pdf")))


def scenario_failed(ignore_errors: bool) -> Any:
    p = parser(result_type="markdown", ignore_errors=ignore_errors)
    return docs_out(p.load_data(str(DOCS / "corrupt.pdf")))


def scenario_reader() -> Any:
    reader = ReaderLlamaParse(
        api_key=KEY, base_url=BASE, result_type="markdown", verbose=False, ignore_errors=False
    )
    return docs_out(reader.load_data(str(DOCS / "headings.pdf")))


SCHEMA = {
    "type": "object",
    "properties": {
        "invoice_number": {"type": "string", "description": "Invoice identifier"},
        "total": {"type": "number", "description": "Amount due"},
    },
}


def extractor() -> LlamaExtract:
    return LlamaExtract(api_key=KEY, base_url=BASE, show_progress=False, check_interval=1)


def scenario_extract_agent() -> Any:
    """An agent: create, extract from a file, find it again, list runs, delete run and agent."""
    ex = extractor()
    config = ExtractConfig(extraction_mode="BALANCED", confidence_scores=True)
    agent = ex.create_agent("invoices", SCHEMA, config=config)
    run = agent.extract(str(DOCS / "invoice.pdf"))
    again = ex.get_agent(name="invoices")
    runs = again.list_extraction_runs()
    job = again.get_extraction_job(run.job_id)
    out = {
        "data": run.data,
        "status": str(run.status.value),
        "has_metadata": bool(run.extraction_metadata),
        "agent_id_matches": again.id == agent.id,
        "agents": [a.name for a in ex.list_agents()],
        "runs_total": runs.total,
        "job_status": str(job.status.value),
        "file_name": run.file.name if run.file else None,
    }
    again.delete_extraction_run(run.id)
    out["runs_after_delete"] = again.list_extraction_runs().total
    ex.delete_agent(agent.id)
    out["agents_after_delete"] = [a.name for a in ex.list_agents()]
    return out


def scenario_extract_stateless() -> Any:
    run = extractor().extract(
        SCHEMA, ExtractConfig(extraction_mode="FAST"), str(DOCS / "invoice.pdf")
    )
    text_run = extractor().extract(
        SCHEMA,
        ExtractConfig(extraction_mode="FAST"),
        SourceText(text_content="Invoice number: INV-77\nTotal: 12.00", filename="note.txt"),
    )
    return {"data": run.data, "text_data": text_run.data}


def scenario_extract_default_mode() -> Any:
    """The client's default config asks for MULTIMODAL: a model; this server has none."""
    return extractor().create_agent("needs-model", SCHEMA).id


SCENARIOS = {
    "markdown_split_sync": lambda: scenario_load("markdown", True, "sync"),
    "markdown_whole_sync": lambda: scenario_load("markdown", False, "sync"),
    "markdown_split_async": lambda: scenario_load("markdown", True, "async"),
    "markdown_whole_async": lambda: scenario_load("markdown", False, "async"),
    "text_split_sync": lambda: scenario_load("text", True, "sync"),
    "text_whole_sync": lambda: scenario_load("text", False, "sync"),
    "text_split_async": lambda: scenario_load("text", True, "async"),
    "text_whole_async": lambda: scenario_load("text", False, "async"),
    "bytes_input": scenario_bytes,
    "file_list": scenario_list,
    "json_sync": lambda: scenario_json("sync"),
    "json_async": lambda: scenario_json("async"),
    "images": lambda: scenario_images(OUT.parent / "downloaded"),
    "job_result": scenario_job_result,
    "options": scenario_options,
    "partitioned": scenario_partitioned,
    "refused_raise": lambda: scenario_refused(False),
    "refused_default": lambda: scenario_refused(True),
    "failed_raise": lambda: scenario_failed(False),
    "reader_package": scenario_reader,
    "extract_agent": scenario_extract_agent,
    "extract_stateless": scenario_extract_stateless,
    "extract_default_mode": scenario_extract_default_mode,
}


def main() -> None:
    wanted = sys.argv[5].split(",") if len(sys.argv) > 5 else list(SCENARIOS)
    results: dict[str, Any] = {}
    for name in wanted:
        try:
            results[name] = {"ok": True, "value": SCENARIOS[name]()}
        except Exception as exc:  # recorded: some scenarios are expected to raise
            results[name] = {
                "ok": False,
                "type": type(exc).__name__,
                "error": str(exc),
                "traceback": traceback.format_exc(),
            }
    OUT.write_text(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
