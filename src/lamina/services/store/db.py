"""Job and file records in SQL (SQLAlchemy Core), and the lease protocol workers use.

Portable SQL only, so SQLite (the default, in WAL mode) and PostgreSQL both work. A worker
claims a job with one conditional ``UPDATE ... WHERE id = ? AND <still claimable>`` and checks
the row count, so two workers never run the same job; it renews the lease while it works, and a
job whose lease expired (its worker died) is claimable again until ``max_attempts``.

Parse and extract jobs share one table and one queue: ``kind`` (``parse`` | ``extract``) says
which, so claiming, leases, cancelling and crash recovery are written once. Extract jobs keep
their input id (``dfl-`` or ``pjb-``) in ``file_input``.

Timestamps are stored as naive UTC and returned as aware UTC.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from lamina._forks import passage
from lamina.services.errors import ValidationFailed
from lamina.services.store.tables import (
    ALL_TABLES,
    files_table,
    jobs_table,
    metadata,
    project_claims_table,
)
from lamina.types import PaginatedList, WireModel

Row = dict[str, Any]
M = TypeVar("M", bound=WireModel)

_BULKY_JOB_COLUMNS = frozenset({"configuration", "raw_parameters", "result_summary"})
JOB_SUMMARY_COLUMNS = tuple(c for c in jobs_table.c if c.name not in _BULKY_JOB_COLUMNS)
"""Columns a status poll or a list needs: everything but the stored configuration (up to
``max_configuration_bytes`` each), so polling costs the same whatever the job was given."""

JOB_KINDS = ("parse", "extract", "classify")
# Columns added after the first release: (name, DDL) added to an existing table on start.
_ADDED_JOB_COLUMNS = (
    ("kind", "VARCHAR(16) NOT NULL DEFAULT 'parse'"),
    ("file_input", "VARCHAR(64)"),
    ("cache_key", "VARCHAR(64)"),
    ("released_at", "TIMESTAMP"),
)


def utcnow() -> datetime:
    """Now, as naive UTC (how times are stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_naive_utc(value: datetime) -> datetime:
    """A datetime as naive UTC; naive input is taken to be UTC already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def aware(value: datetime | None) -> datetime | None:
    """A stored (naive UTC) time as an aware UTC datetime."""
    return None if value is None else value.replace(tzinfo=UTC)


def new_id(prefix: str) -> str:
    """A random id such as ``pjb-...`` or ``dfl-...``."""
    return f"{prefix}-{secrets.token_hex(12)}"


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An SQLAlchemy engine; SQLite gets WAL mode and a busy timeout on every connection."""
    if url.startswith("sqlite"):
        # No pre-ping: a SQLite file cannot drop a connection, and the ping is a query per
        # checkout on the request hot path.
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _configure_sqlite)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


# --- pagination --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of rows and the token for the next one."""

    rows: list[Row]
    next_page_token: str | None
    total_size: int

    def typed(self, convert: Callable[[Row], M]) -> PaginatedList[M]:
        """The API's list shape: each row converted to ``M``, ``next_page_token``,
        ``total_size``."""
        return PaginatedList[M](
            items=[convert(row) for row in self.rows],
            next_page_token=self.next_page_token,
            total_size=self.total_size,
        )


def _encode_token(sort_value: Any, row_id: str) -> str:
    if isinstance(sort_value, datetime):
        sort_value = {"dt": sort_value.isoformat()}
    raw = json.dumps({"v": sort_value, "i": row_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_TOKEN_LENGTH = 2048
"""Longest ``page_token`` accepted (the server's own are far shorter)."""
MAX_OFFSET = 1_000_000_000
"""Largest ``offset`` of the offset-paginated (v1 batch) lists."""


def _decode_token(token: str) -> tuple[Any, str]:
    """A page token's (sort value, id). Only what :func:`_encode_token` writes is accepted: a
    string or a datetime, and a string id; anything else (numbers, lists, booleans the
    database cannot compare) is a 422."""
    try:
        if len(token) > MAX_TOKEN_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        value, row_id = data["v"], data["i"]
        if isinstance(value, dict) and set(value) == {"dt"} and isinstance(value["dt"], str):
            value = datetime.fromisoformat(value["dt"])
            if value.tzinfo is not None:
                value = to_naive_utc(value)
        elif not isinstance(value, str):
            raise TypeError("unexpected sort value")
        if not isinstance(row_id, str) or len(row_id) > 200:
            raise TypeError("unexpected id")
        return value, row_id
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ValidationFailed.single(
            ["page_token"], "Invalid page_token", origin="parameter", input=token[:200]
        ) from exc


def paginate(
    conn: Connection,
    table: sa.Table,
    where: Sequence[sa.ColumnElement[bool]],
    *,
    sort: str,
    descending: bool,
    page_size: int,
    page_token: str | None,
    columns: Sequence[sa.ColumnElement[Any]] | None = None,
) -> Page:
    """Keyset pagination over ``table`` ordered by ``sort`` then ``id`` (both one direction);
    ``columns`` (default all) are the ones read."""
    if not 1 <= page_size <= 1000:
        raise ValidationFailed.single(
            ["page_size"],
            "page_size must be between 1 and 1000",
            origin="parameter",
            input=page_size,
        )
    sort_col, id_col = table.c[sort], table.c.id
    total = conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
    query = (sa.select(*columns) if columns else sa.select(table)).where(*where)
    if page_token:
        value, last_id = _decode_token(page_token)
        if descending:
            after = sa.or_(sort_col < value, sa.and_(sort_col == value, id_col < last_id))
        else:
            after = sa.or_(sort_col > value, sa.and_(sort_col == value, id_col > last_id))
        query = query.where(after)
    order = (sort_col.desc(), id_col.desc()) if descending else (sort_col.asc(), id_col.asc())
    rows = [dict(r._mapping) for r in conn.execute(query.order_by(*order).limit(page_size + 1))]
    token = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        token = _encode_token(rows[-1][sort], rows[-1]["id"])
    return Page(rows=rows, next_page_token=token, total_size=int(total))


# --- the database ------------------------------------------------------------------------------


class Database:
    """Records of files and parse jobs; every method is one short transaction.

    Every transaction goes through :func:`lamina._forks.passage`: SQLite holds process-wide
    mutexes inside one, which a fork in the middle would leave locked in the child."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    def create_schema(self) -> None:
        """Create the missing tables of :data:`~lamina.services.store.tables.ALL_TABLES` (every
        service's, batch ones included), and add columns newer versions need to an older jobs
        table. Idempotent; the container calls it once when the services open."""
        with passage():
            metadata.create_all(self.engine, tables=ALL_TABLES)
            existing = {c["name"] for c in sa.inspect(self.engine).get_columns(jobs_table.name)}
        with self.begin() as conn:
            for name, ddl in _ADDED_JOB_COLUMNS:
                if name not in existing:
                    conn.execute(sa.text(f"ALTER TABLE {jobs_table.name} ADD COLUMN {name} {ddl}"))
            for index in jobs_table.indexes:  # indexes on added columns of an older table
                index.create(conn, checkfirst=True)

    def dispose(self) -> None:
        with passage():
            self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with passage(), self.engine.begin() as conn:
            yield conn

    # files ------------------------------------------------------------------------------------

    def insert_file(self, row: Row) -> None:
        with self.begin() as conn:
            conn.execute(files_table.insert().values(**row))

    def get_file(self, file_id: str, project_id: str | None = None) -> Row | None:
        query = sa.select(files_table).where(files_table.c.id == file_id)
        if project_id is not None:
            query = query.where(files_table.c.project_id == project_id)
        with self.begin() as conn:
            found = conn.execute(query).first()
        return dict(found._mapping) if found else None

    def delete_file(self, file_id: str, project_id: str) -> bool:
        with self.begin() as conn:
            result = conn.execute(
                files_table.delete().where(
                    files_table.c.id == file_id, files_table.c.project_id == project_id
                )
            )
        return result.rowcount == 1

    def list_files(
        self,
        project_id: str,
        *,
        file_name: str | None = None,
        external_file_id: str | None = None,
        file_ids: Sequence[str] | None = None,
        order_by: str = "created_at",
        page_size: int = 50,
        page_token: str | None = None,
    ) -> Page:
        where: list[sa.ColumnElement[bool]] = [files_table.c.project_id == project_id]
        if file_name is not None:
            where.append(files_table.c.name == file_name)
        if external_file_id is not None:
            where.append(files_table.c.external_file_id == external_file_id)
        if file_ids:
            where.append(files_table.c.id.in_(list(file_ids)))
        with self.begin() as conn:
            return paginate(
                conn,
                files_table,
                where,
                sort=order_by,
                descending=order_by == "created_at",
                page_size=page_size,
                page_token=page_token,
            )

    # jobs -------------------------------------------------------------------------------------

    def insert_job(self, row: Row) -> None:
        with self.begin() as conn:
            conn.execute(jobs_table.insert().values(**row))

    def get_job(
        self,
        job_id: str,
        project_id: str | None = None,
        *,
        kind: str | None = None,
        summary: bool = False,
    ) -> Row | None:
        """A job by id (in ``project_id`` and of ``kind`` when given); ``summary`` reads
        :data:`JOB_SUMMARY_COLUMNS` only."""
        selected = sa.select(*JOB_SUMMARY_COLUMNS) if summary else sa.select(jobs_table)
        query = selected.where(jobs_table.c.id == job_id)
        if project_id is not None:
            query = query.where(jobs_table.c.project_id == project_id)
        if kind is not None:
            query = query.where(jobs_table.c.kind == kind)
        with self.begin() as conn:
            found = conn.execute(query).first()
        return dict(found._mapping) if found else None

    def delete_job(self, job_id: str, project_id: str, *, kind: str = "parse") -> bool:
        with self.begin() as conn:
            result = conn.execute(
                jobs_table.delete().where(
                    jobs_table.c.id == job_id,
                    jobs_table.c.project_id == project_id,
                    jobs_table.c.kind == kind,
                )
            )
        return result.rowcount == 1

    def list_jobs(
        self,
        project_id: str,
        *,
        status: str | None = None,
        job_ids: Sequence[str] | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        page_size: int = 50,
        page_token: str | None = None,
        kind: str = "parse",
        file_input: str | None = None,
        summary: bool = False,
    ) -> Page:
        c = jobs_table.c
        where: list[sa.ColumnElement[bool]] = [c.project_id == project_id, c.kind == kind]
        if file_input is not None:
            where.append(c.file_input == file_input)
        if status is not None:
            where.append(c.status == status)
        if job_ids:
            where.append(c.id.in_(list(job_ids)))
        if created_after is not None:
            where.append(c.created_at >= to_naive_utc(created_after))
        if created_before is not None:
            where.append(c.created_at <= to_naive_utc(created_before))
        with self.begin() as conn:
            return paginate(
                conn,
                jobs_table,
                where,
                sort="created_at",
                descending=True,
                page_size=page_size,
                page_token=page_token,
                columns=JOB_SUMMARY_COLUMNS if summary else None,
            )

    def cancel_job(self, job_id: str, project_id: str, *, kind: str = "parse") -> bool:
        """PENDING or RUNNING → CANCELLED; False when the job was already terminal."""
        now = utcnow()
        with self.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(
                    jobs_table.c.id == job_id,
                    jobs_table.c.project_id == project_id,
                    jobs_table.c.kind == kind,
                    jobs_table.c.status.in_(["PENDING", "RUNNING"]),
                )
                .values(
                    status="CANCELLED",
                    updated_at=now,
                    finished_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
        return result.rowcount == 1

    # leases -----------------------------------------------------------------------------------

    def fail_exhausted(self, max_attempts: int) -> list[str]:
        """Fail jobs whose worker died ``max_attempts`` times (lease expired, attempts used up)."""
        now = utcnow()
        c = jobs_table.c
        expired = sa.and_(c.status == "RUNNING", c.lease_expires_at < now)
        with self.begin() as conn:
            found = conn.execute(sa.select(c.id, c.kind).where(expired, c.attempts >= max_attempts))
            failed = []
            for job_id, kind in list(found):
                verb = "extracting" if kind == "extract" else "parsing"
                result = conn.execute(
                    jobs_table.update()
                    .where(c.id == job_id, expired, c.attempts >= max_attempts)
                    .values(
                        status="FAILED",
                        error_message=(
                            f"The worker {verb} this job stopped unexpectedly {max_attempts} "
                            "times (crash or out of memory); giving up."
                        ),
                        updated_at=now,
                        finished_at=now,
                        lease_owner=None,
                        lease_expires_at=None,
                    )
                )
                if result.rowcount == 1:
                    failed.append(job_id)
        return failed

    def claim_next(
        self,
        owner: str,
        lease_seconds: float,
        max_attempts: int,
        *,
        max_running_per_project: int | None = None,
    ) -> Row | None:
        """Claim the next job for ``owner``, fairly between projects; None when there is
        nothing to do.

        A job whose lease expired (its worker died) goes first. Otherwise the project with the
        fewest running jobs is served, ties going to the project served least recently, and
        within a project the oldest job; a project already running ``max_running_per_project``
        jobs waits. So one project's hundred queued jobs do not delay another project's one job
        by more than the jobs already running.
        """
        self.fail_exhausted(max_attempts)
        c = jobs_table.c
        for _ in range(5):
            now = utcnow()
            claimable = sa.or_(
                c.status == "PENDING",
                sa.and_(c.status == "RUNNING", c.lease_expires_at < now),
            )
            candidates = self._claim_candidates(now, max_running_per_project)
            if not candidates:
                return None
            for job_id, project_id in candidates:
                with self.begin() as conn:
                    result = conn.execute(
                        jobs_table.update()
                        .where(c.id == job_id, claimable)
                        .values(
                            status="RUNNING",
                            lease_owner=owner,
                            lease_expires_at=now + timedelta(seconds=lease_seconds),
                            attempts=c.attempts + 1,
                            started_at=sa.func.coalesce(c.started_at, now),
                            updated_at=now,
                        )
                    )
                if result.rowcount == 1:
                    self._served(project_id, now)
                    return self.get_job(job_id)
        return None

    def claim_job(
        self, job_id: str, owner: str, lease_seconds: float, max_attempts: int
    ) -> Row | None:
        """Claim one given job (a broker delivered its id): PENDING, or RUNNING with an expired
        lease, and fewer than ``max_attempts`` claims so far; None when it is not claimable.

        The same conditional update as :meth:`claim_next`, so a job delivered twice is run by
        one worker at a time, and a job whose workers died ``max_attempts`` times is failed
        (:meth:`fail_exhausted`) rather than claimed again.
        """
        self.fail_exhausted(max_attempts)
        c = jobs_table.c
        now = utcnow()
        claimable = sa.or_(
            c.status == "PENDING",
            sa.and_(c.status == "RUNNING", c.lease_expires_at < now),
        )
        with self.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(c.id == job_id, claimable, c.attempts < max_attempts)
                .values(
                    status="RUNNING",
                    lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    attempts=c.attempts + 1,
                    started_at=sa.func.coalesce(c.started_at, now),
                    updated_at=now,
                )
            )
        return self.get_job(job_id) if result.rowcount == 1 else None

    def _claim_candidates(
        self, now: datetime, max_running_per_project: int | None
    ) -> list[tuple[str, str]]:
        """Up to five (job id, project id) to try claiming, best first."""
        c, pc = jobs_table.c, project_claims_table.c
        with self.begin() as conn:
            expired = [
                (r[0], r[1])
                for r in conn.execute(
                    sa.select(c.id, c.project_id)
                    .where(c.status == "RUNNING", c.lease_expires_at < now)
                    .order_by(c.created_at, c.id)
                    .limit(5)
                )
            ]
            if expired:
                return expired
            waiting = {
                r[0]: r[1]
                for r in conn.execute(
                    sa.select(c.project_id, sa.func.min(c.created_at))
                    .where(c.status == "PENDING")
                    .group_by(c.project_id)
                )
            }
            if not waiting:
                return []
            running: dict[str, int] = {
                r[0]: int(r[1])
                for r in conn.execute(
                    sa.select(c.project_id, sa.func.count())
                    .where(c.status == "RUNNING", c.lease_expires_at >= now)
                    .group_by(c.project_id)
                )
            }
            served: dict[str, datetime] = {}
            projects = list(waiting)
            for start in range(0, len(projects), 500):
                chunk = projects[start : start + 500]
                served.update(
                    (r[0], r[1])
                    for r in conn.execute(
                        sa.select(pc.project_id, pc.last_claimed_at).where(pc.project_id.in_(chunk))
                    )
                )
            order = sorted(
                waiting,
                key=lambda p: (running.get(p, 0), served.get(p, datetime.min), waiting[p], p),
            )
            for project in order:
                if max_running_per_project and running.get(project, 0) >= max_running_per_project:
                    continue
                ids = [
                    (r[0], project)
                    for r in conn.execute(
                        sa.select(c.id)
                        .where(c.status == "PENDING", c.project_id == project)
                        .order_by(c.created_at, c.id)
                        .limit(5)
                    )
                ]
                if ids:
                    return ids
        return []

    def _served(self, project_id: str, now: datetime) -> None:
        """Record that a job of ``project_id`` was just claimed (for round-robin)."""
        pc = project_claims_table.c
        try:
            with self.begin() as conn:
                updated = conn.execute(
                    project_claims_table.update()
                    .where(pc.project_id == project_id)
                    .values(last_claimed_at=now)
                ).rowcount
            if not updated:
                with self.begin() as conn:
                    conn.execute(
                        project_claims_table.insert().values(
                            project_id=project_id, last_claimed_at=now
                        )
                    )
        except sa.exc.IntegrityError:
            pass  # another worker recorded it at the same moment

    def pending_count(self, project_id: str) -> int:
        """Jobs of ``project_id`` waiting for a worker."""
        c = jobs_table.c
        with self.begin() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(jobs_table)
                    .where(c.status == "PENDING", c.project_id == project_id)
                ).scalar_one()
            )

    def renew_lease(self, job_id: str, owner: str, lease_seconds: float) -> bool:
        """Extend the lease; False when the job is no longer ours (cancelled, deleted, taken)."""
        c = jobs_table.c
        with self.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(c.id == job_id, c.lease_owner == owner, c.status == "RUNNING")
                .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
            )
        return result.rowcount == 1

    def finish_job(
        self,
        job_id: str,
        owner: str,
        *,
        status: str,
        error_message: str | None = None,
        result_summary: Mapping[str, Any] | None = None,
        cache_key: str | None = None,
    ) -> bool:
        """RUNNING (held by ``owner``) → a terminal status; False if the job is no longer ours.

        ``cache_key`` (COMPLETED parse jobs only) makes the result reusable by later jobs.
        """
        now = utcnow()
        c = jobs_table.c
        with self.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(c.id == job_id, c.lease_owner == owner, c.status == "RUNNING")
                .values(
                    status=status,
                    error_message=error_message,
                    result_summary=dict(result_summary) if result_summary else None,
                    cache_key=cache_key if status == "COMPLETED" else None,
                    updated_at=now,
                    finished_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
        return result.rowcount == 1

    def cached_results(self, project_id: str, cache_key: str, *, limit: int = 3) -> list[str]:
        """Ids of COMPLETED parse jobs of ``project_id`` under ``cache_key``, newest first."""
        c = jobs_table.c
        query = (
            sa.select(c.id)
            .where(
                c.project_id == project_id,
                c.cache_key == cache_key,
                c.status == "COMPLETED",
                c.kind == "parse",
            )
            .order_by(c.finished_at.desc(), c.id.desc())
            .limit(limit)
        )
        with self.begin() as conn:
            return [r[0] for r in conn.execute(query)]

    def expire_lease(self, job_id: str, owner: str) -> bool:
        """Make a dead worker's job claimable now instead of when its lease runs out."""
        c = jobs_table.c
        with self.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(c.id == job_id, c.lease_owner == owner, c.status == "RUNNING")
                .values(lease_expires_at=utcnow() - timedelta(seconds=1))
            )
        return result.rowcount == 1

    def release_owner(self, owner: str) -> int:
        """Put an owner's RUNNING jobs back to PENDING without using up an attempt.

        For a clean shutdown: the job was interrupted by us, not by its own crash.
        """
        c = jobs_table.c
        with self.begin() as conn:
            result = conn.execute(
                jobs_table.update()
                .where(c.lease_owner == owner, c.status == "RUNNING")
                .values(
                    status="PENDING",
                    lease_owner=None,
                    lease_expires_at=None,
                    attempts=sa.case((c.attempts > 0, c.attempts - 1), else_=0),
                    updated_at=utcnow(),
                )
            )
        return int(result.rowcount)

    def running_leases(self) -> list[tuple[str, str]]:
        """(job id, lease owner) of every RUNNING job."""
        c = jobs_table.c
        with self.begin() as conn:
            return [
                (r[0], r[1])
                for r in conn.execute(
                    sa.select(c.id, c.lease_owner).where(
                        c.status == "RUNNING", c.lease_owner.is_not(None)
                    )
                )
            ]
