"""Small units: settings from the environment, the serve CLI, leases in the database."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from lamina.cli import serve
from lamina.services.settings import ServerSettings, parse_api_keys
from lamina.services.store.db import Database, new_id, utcnow


def test_settings_from_env(tmp_path: Path) -> None:
    env = {
        "LAMINA_HOME": str(tmp_path),
        "LAMINA_WORKERS": "0",
        "LAMINA_API_KEYS": "k1:p1, k2",
        "LAMINA_MAX_ATTEMPTS": "5",
        "LAMINA_MODEL_URL": "http://model",
    }
    settings = ServerSettings.from_env(env, presign_ttl_seconds=60)
    assert settings.data_dir == tmp_path.resolve()
    assert settings.workers == 0 and settings.max_attempts == 5
    assert dict(settings.api_keys) == {"k1": "p1", "k2": "default"}
    assert settings.presign_ttl_seconds == 60 and settings.model_url == "http://model"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'lamina.db'}"
    with pytest.raises(ValueError, match="LAMINA_WORKERS"):
        ServerSettings.from_env({"LAMINA_WORKERS": "many"})


def test_parse_api_keys() -> None:
    assert parse_api_keys(["a:x", "b", " "]) == {"a": "x", "b": "default"}


def test_serve_parser() -> None:
    parser = argparse.ArgumentParser()
    serve.register(parser.add_subparsers())
    args = parser.parse_args(["serve", "--api-key", "k:p", "--api-key", "k2", "--workers", "0"])
    assert (args.host, args.port, args.workers) == ("127.0.0.1", 8000, 0)
    assert args.api_key == ["k:p", "k2"] and args.run is serve._run


def _job(db: Database) -> str:
    now = utcnow()
    job_id = new_id("pjb")
    db.insert_job(
        {
            "id": job_id,
            "project_id": "p",
            "status": "PENDING",
            "tier": "fast",
            "configuration": {"tier": "fast"},
            "raw_parameters": {},
            "created_at": now,
            "updated_at": now,
            "attempts": 0,
        }
    )
    return job_id


def test_claim_is_exclusive_and_leases_expire(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 't.db'}")
    db.create_schema()
    job_id = _job(db)
    claimed = db.claim_next("a", lease_seconds=60, max_attempts=2)
    assert claimed is not None and claimed["id"] == job_id and claimed["status"] == "RUNNING"
    assert db.claim_next("b", lease_seconds=60, max_attempts=2) is None
    assert db.renew_lease(job_id, "a", 60) and not db.renew_lease(job_id, "b", 60)

    assert db.expire_lease(job_id, "a")  # "a" died
    again = db.claim_next("b", lease_seconds=60, max_attempts=2)
    assert again is not None and again["attempts"] == 2
    assert not db.finish_job(job_id, "a", status="COMPLETED")  # stale owner cannot finish

    db.expire_lease(job_id, "b")  # "b" died too: attempts used up
    assert db.claim_next("c", lease_seconds=60, max_attempts=2) is None
    failed = db.get_job(job_id)
    assert failed is not None and failed["status"] == "FAILED"
    assert "2 times" in failed["error_message"]


def test_release_owner_keeps_attempts(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 't.db'}")
    db.create_schema()
    job_id = _job(db)
    db.claim_next("a", lease_seconds=60, max_attempts=3)
    assert db.release_owner("a") == 1
    row = db.get_job(job_id)
    assert row is not None and (row["status"], row["attempts"]) == ("PENDING", 0)
