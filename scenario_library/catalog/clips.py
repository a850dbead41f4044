"""Clip rows: insert (idempotent), load, query planning and coverage statistics.

All functions take an open :class:`~sqlalchemy.orm.Session` inside a transaction; the
:class:`~scenario_library.catalog.Catalog` facade owns transactions.

Query plan (see ``models.py`` for the layout). Every query returns clip ids in ``id`` order
(newest first by default) and stops after ``offset + limit + 1`` matches, so it never sorts
a large set. The driver is chosen from exact live counters, "rarest first":

- ``tagsets``: per matching tag set, read the newest ids from ``clip(tagset_id, id)``
  (UNION ALL of small LIMITed branches), merge-sort those few ids.
- ``class`` / ``backend``: walk ``clip(class_id, id)`` / ``clip(backend, id)``.
- ``scan``: walk the clip table in id order (when every condition matches a large share).

Other conditions are checked per candidate: column tests on the clip row, ``tagset_id IN``,
and one ``clip_param`` primary-key lookup per parameter range. The read path is plain SQL
text (portable to both engines): SQLAlchemy statement construction and compilation cost
more than the query itself at this size.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.orm import Session

from scenario_library.catalog.models import (
    Clip,
    ClipFile,
    ClipParam,
    ClipStat,
    TagSet,
    TagSetTag,
)
from scenario_library.catalog.records import (
    ClipPage,
    ClipQuery,
    ClipRecord,
    CoverageStats,
    FileRef,
)

# Upper bound of index entries the "tagsets" plan may read before another plan is preferred.
_UNION_MAX_BRANCHES = 200

# Parameter-range operators as SQL (whitelist: the operator is inlined into the statement).
_SQL_OPS = {">": ">", ">=": ">=", "<": "<", "<=": "<=", "=": "=", "!=": "<>"}


def dialect_insert(session: Session, table: Any) -> Any:
    """``INSERT`` with ``on_conflict_*`` support for the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_dialect.insert(table)
    return sqlite_dialect.insert(table)


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def tags_key(tags: Sequence[str]) -> str:
    return json.dumps(sorted(set(tags)), separators=(",", ":"))


# --------------------------------------------------------------------------------- writes


def clip_id_of(session: Session, token: str) -> int | None:
    return session.execute(select(Clip.id).where(Clip.token == token)).scalar_one_or_none()


def _tagset_id(session: Session, tags: Sequence[str]) -> int:
    key = tags_key(tags)
    ins = (
        dialect_insert(session, TagSet)
        .values(tags_key=key, n_tags=len(set(tags)), n_clips=0)
        .on_conflict_do_nothing(index_elements=["tags_key"])
        .returning(TagSet.id)
    )
    new_id = session.execute(ins).scalar_one_or_none()
    if new_id is None:
        return session.execute(select(TagSet.id).where(TagSet.tags_key == key)).scalar_one()
    if tags:
        session.execute(
            dialect_insert(session, TagSetTag).on_conflict_do_nothing(),
            [{"tag": t, "tagset_id": new_id} for t in sorted(set(tags))],
        )
    return int(new_id)


def _bump_stats(session: Session, counters: Sequence[tuple[str, str]], delta: int) -> None:
    # Sorted so that concurrent writers take row locks in the same order (no deadlock).
    for dimension, value in sorted(counters):
        ins = dialect_insert(session, ClipStat).values(
            dimension=dimension, value=value, n_clips=delta
        )
        session.execute(
            ins.on_conflict_do_update(
                index_elements=["dimension", "value"],
                set_={"n_clips": ClipStat.n_clips + ins.excluded.n_clips},
            )
        )


def insert_clip(session: Session, rec: ClipRecord) -> bool:
    """Insert ``rec`` unless its token exists; True when inserted. May raise IntegrityError
    when a concurrent transaction inserted the same token first (the caller handles it)."""
    if clip_id_of(session, rec.token) is not None:
        return False
    tagset_id = _tagset_id(session, rec.tags)
    clip_id = session.execute(
        dialect_insert(session, Clip)
        .values(
            token=rec.token,
            class_id=rec.class_id,
            class_name=rec.class_name,
            tagset_id=tagset_id,
            tags=list(rec.tags),
            params=dict(rec.params),
            seed=rec.seed,
            backend=rec.backend,
            width_px=rec.width_px,
            height_px=rec.height_px,
            fps=rec.fps,
            n_frames=rec.n_frames,
            spec=rec.spec,
            provenance=rec.provenance,
            quality=rec.quality,
            source_clip_token=rec.source_clip_token,
            created_at=rec.created_at,
        )
        .returning(Clip.id)
    ).scalar_one()
    if rec.params:
        session.execute(
            dialect_insert(session, ClipParam),
            [{"clip_id": clip_id, "name": n, "value": v} for n, v in rec.params.items()],
        )
    if rec.files:
        session.execute(
            dialect_insert(session, ClipFile),
            [
                {
                    "clip_id": clip_id,
                    "position": i,
                    "kind": f.kind,
                    "uri": f.uri,
                    "sha256": f.sha256,
                    "size_bytes": f.size_bytes,
                }
                for i, f in enumerate(rec.files)
            ],
        )
    session.execute(update(TagSet).where(TagSet.id == tagset_id).values(n_clips=TagSet.n_clips + 1))
    counters = [("backend", rec.backend)]
    if rec.class_id is not None:
        counters.append(("class", str(rec.class_id)))
    _bump_stats(session, counters + [("tag", t) for t in rec.tags], 1)
    return True


def rebuild_stats(session: Session) -> None:
    """Recompute every counter from the clip table (after bulk loads or repairs)."""
    session.execute(update(TagSet).values(n_clips=0))
    for tagset_id, n in session.execute(
        select(Clip.tagset_id, func.count()).group_by(Clip.tagset_id)
    ):
        session.execute(update(TagSet).where(TagSet.id == tagset_id).values(n_clips=n))
    session.execute(delete(ClipStat))
    rows: list[dict[str, Any]] = []
    for class_id, n in session.execute(
        select(Clip.class_id, func.count())
        .where(Clip.class_id.is_not(None))
        .group_by(Clip.class_id)
    ):
        rows.append({"dimension": "class", "value": str(class_id), "n_clips": n})
    for backend, n in session.execute(select(Clip.backend, func.count()).group_by(Clip.backend)):
        rows.append({"dimension": "backend", "value": backend, "n_clips": n})
    for tag, n in session.execute(
        select(TagSetTag.tag, func.sum(TagSet.n_clips))
        .join(TagSet, TagSet.id == TagSetTag.tagset_id)
        .where(TagSet.n_clips > 0)
        .group_by(TagSetTag.tag)
    ):
        rows.append({"dimension": "tag", "value": tag, "n_clips": int(n)})
    if rows:
        session.execute(dialect_insert(session, ClipStat), rows)


# ---------------------------------------------------------------------------------- reads


_CLIP_COLUMNS = (
    "id, token, class_id, class_name, tags, params, seed, backend, width_px, height_px, fps, "
    "n_frames, spec, provenance, quality, source_clip_token, created_at"
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _utc(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite returns the stored text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id_list(ids: Sequence[int]) -> str:
    return ",".join(str(int(i)) for i in ids)  # integers we produced: safe to inline


def load_records(session: Session, ids: Sequence[int]) -> list[ClipRecord]:
    """Records of the given clip ids, in the given order.

    Hot path of every query page: plain SQL, and records built without re-validation
    (``model_construct``; rows were validated when written)."""
    if not ids:
        return []
    id_sql = _id_list(ids)
    rows = {
        r[0]: r
        for r in session.execute(text(f"SELECT {_CLIP_COLUMNS} FROM clip WHERE id IN ({id_sql})"))
    }
    files: dict[int, list[FileRef]] = {}
    for clip_id, kind, uri, sha, size in session.execute(
        text(
            "SELECT clip_id, kind, uri, sha256, size_bytes FROM clip_file "
            f"WHERE clip_id IN ({id_sql}) ORDER BY clip_id, position"
        )
    ):
        files.setdefault(clip_id, []).append(
            FileRef.model_construct(kind=kind, uri=uri, sha256=sha, size_bytes=size)
        )
    out = []
    for i in ids:
        c = rows[i]
        out.append(
            ClipRecord.model_construct(
                token=c[1],
                class_id=c[2],
                class_name=c[3],
                tags=_json(c[4]),
                params=_json(c[5]),
                seed=c[6],
                backend=c[7],
                width_px=c[8],
                height_px=c[9],
                fps=c[10],
                n_frames=c[11],
                spec=_json(c[12]),
                provenance=_json(c[13]),
                files=files.get(i, []),
                quality=_json(c[14]),
                source_clip_token=c[15],
                created_at=_utc(c[16]),
            )
        )
    return out


def _counters(session: Session, q: ClipQuery) -> dict[tuple[str, str], int]:
    """Total (``("total", "")``) plus the class / backend counters the query needs."""
    keys = []
    params: dict[str, Any] = {}
    if q.class_id is not None:
        keys.append("(dimension = 'class' AND value = :cv)")
        params["cv"] = str(q.class_id)
    if q.backend is not None:
        keys.append("(dimension = 'backend' AND value = :bv)")
        params["bv"] = q.backend
    sql = "SELECT 'total', '', COALESCE(SUM(n_clips), 0) FROM clip_stat WHERE dimension = 'class'"
    if keys:
        sql += " UNION ALL SELECT dimension, value, n_clips FROM clip_stat WHERE " + " OR ".join(
            keys
        )
    return {(d, v): int(n) for d, v, n in session.execute(text(sql), params)}


def matching_tagsets(session: Session, tags: Sequence[str]) -> dict[int, int]:
    """Tag sets containing ALL ``tags`` that have clips: ``{tagset_id: n_clips}``."""
    tags = sorted(set(tags))
    params: dict[str, Any] = {f"t{i}": t for i, t in enumerate(tags)}
    params["k"] = len(tags)
    marks = ",".join(f":t{i}" for i in range(len(tags)))
    rows = session.execute(
        text(
            "SELECT id, n_clips FROM tagset WHERE n_clips > 0 AND id IN ("
            f"SELECT tagset_id FROM tagset_tag WHERE tag IN ({marks}) "
            "GROUP BY tagset_id HAVING COUNT(*) = :k)"
        ),
        params,
    )
    return {int(i): int(n) for i, n in rows}


@dataclass(frozen=True)
class QueryPlan:
    """The chosen driver and the counts it was chosen from (for EXPLAIN and tests)."""

    driver: str  # "empty" | "tagsets" | "class" | "backend" | "scan"
    exact_total: int | None
    estimated_rows: float


def plan_query(session: Session, q: ClipQuery) -> tuple[QueryPlan, dict[int, int]]:
    stat = _counters(session, q)
    counts: dict[str, int] = {"scan": stat[("total", "")]}
    tagsets: dict[int, int] = {}
    if q.tags:
        tagsets = matching_tagsets(session, q.tags)
        counts["tagsets"] = sum(tagsets.values())
    if q.class_id is not None:
        counts["class"] = stat.get(("class", str(q.class_id)), 0)
    if q.backend is not None:
        counts["backend"] = stat.get(("backend", q.backend), 0)
    n_filters = len(counts) - 1 + (1 if q.where else 0)
    if min(counts.values()) == 0:
        return QueryPlan("empty", 0, 0.0), tagsets
    exact = None
    if n_filters == 0:
        exact = counts["scan"]
    elif n_filters == 1 and not q.where:
        exact = next(v for k, v in counts.items() if k != "scan")
    # Optimistic match estimate: the smallest set, all of whose members pass the rest.
    est_matches = max(1, min(counts.values()))
    want = q.offset + q.limit + 1
    costs: dict[str, float] = {}
    for driver, n in counts.items():
        costs[driver] = min(float(n), want * n / est_matches)
    if "tagsets" in costs:
        if len(tagsets) > _UNION_MAX_BRANCHES:
            del costs["tagsets"]
        else:
            costs["tagsets"] += 2.0 * len(tagsets)  # one index seek per branch
    driver = min(costs, key=lambda d: costs[d])
    return QueryPlan(driver, exact, costs[driver]), tagsets


def _conditions(
    q: ClipQuery, skip: str, tagsets: dict[int, int], params: dict[str, Any]
) -> list[str]:
    """SQL conditions on table ``clip`` for all filters except the driver's own."""
    conds = []
    if q.class_id is not None and skip != "class":
        conds.append("clip.class_id = :class_id")
        params["class_id"] = q.class_id
    if q.backend is not None and skip != "backend":
        conds.append("clip.backend = :backend")
        params["backend"] = q.backend
    if q.tags and skip != "tagsets":
        conds.append(f"clip.tagset_id IN ({_id_list(sorted(tagsets))})")
    for i, r in enumerate(q.where):
        conds.append(
            "EXISTS (SELECT 1 FROM clip_param p WHERE p.clip_id = clip.id "
            f"AND p.name = :pn{i} AND p.value {_SQL_OPS[r.op]} :pv{i})"
        )
        params[f"pn{i}"] = r.name
        params[f"pv{i}"] = r.value
    return conds


def build_id_query(
    session: Session, q: ClipQuery, plan: QueryPlan, tagsets: dict[int, int]
) -> tuple[str, dict[str, Any]]:
    """SQL (and parameters) selecting the matching clip ids of one page plus one row."""
    sqlite = _is_sqlite(session)
    params: dict[str, Any] = {}
    conds = _conditions(q, plan.driver, tagsets, params)
    order = "DESC" if q.newest_first else "ASC"
    want = q.offset + q.limit + 1
    extra = "".join(f" AND {c}" for c in conds)
    if plan.driver == "tagsets":
        # Per tag set: its newest ``want`` matching ids; then merge those few.
        hint = " INDEXED BY ix_clip_tagset_id" if sqlite else ""
        branches = [
            f"SELECT id FROM (SELECT clip.id AS id FROM clip{hint} WHERE clip.tagset_id = {ts}"
            f"{extra} ORDER BY clip.id {order} LIMIT {want}) AS b{n}"
            for n, ts in enumerate(sorted(tagsets))
        ]
        sql = " UNION ALL ".join(branches)
        return f"{sql} ORDER BY 1 {order} LIMIT {want} OFFSET {q.offset}", params
    if plan.driver == "class":
        conds.insert(0, "clip.class_id = :class_id")
        params["class_id"] = q.class_id
        hint = " INDEXED BY ix_clip_class_id"
    elif plan.driver == "backend":
        conds.insert(0, "clip.backend = :backend")
        params["backend"] = q.backend
        hint = " INDEXED BY ix_clip_backend_id"
    else:
        hint = " NOT INDEXED"  # walk the table in rowid order: no sort
    where = f" WHERE {' AND '.join(conds)}" if conds else ""
    sql = f"SELECT clip.id FROM clip{hint if sqlite else ''}{where} ORDER BY clip.id {order}"
    return f"{sql} LIMIT {want - q.offset} OFFSET {q.offset}", params


def count_matches(session: Session, q: ClipQuery, tagsets: dict[int, int]) -> int:
    params: dict[str, Any] = {}
    conds = _conditions(q, "", tagsets, params)
    where = f" WHERE {' AND '.join(conds)}" if conds else ""
    return int(session.execute(text(f"SELECT COUNT(*) FROM clip{where}"), params).scalar_one())


def query(session: Session, q: ClipQuery) -> ClipPage:
    plan, tagsets = plan_query(session, q)
    if plan.driver == "empty":
        return ClipPage(items=[], total=0, next_offset=None)
    sql, params = build_id_query(session, q, plan, tagsets)
    ids = [int(i) for i in session.execute(text(sql), params).scalars()]
    more = len(ids) > q.limit
    ids = ids[: q.limit]
    total = plan.exact_total
    if total is None and ids and not more:
        total = q.offset + len(ids)  # last page: exact for free
    if total is None and q.with_total:
        total = count_matches(session, q, tagsets)
    return ClipPage.model_construct(
        items=load_records(session, ids),
        total=total,
        next_offset=q.offset + len(ids) if more else None,
    )


def coverage(session: Session, n_classes: int) -> CoverageStats:
    per: dict[str, dict[str, int]] = {"class": {}, "backend": {}, "tag": {}}
    for dimension, value, n in session.execute(
        text("SELECT dimension, value, n_clips FROM clip_stat WHERE n_clips > 0")
    ):
        per.setdefault(dimension, {})[value] = int(n)
    per_class = {int(k): v for k, v in per["class"].items()}
    return CoverageStats(
        n_clips=sum(per["backend"].values()),
        n_classes=n_classes,
        clips_per_class=dict(sorted(per_class.items())),
        clips_per_tag=dict(sorted(per["tag"].items())),
        clips_per_backend=dict(sorted(per["backend"].items())),
        classes_without_clips=[c for c in range(n_classes) if c not in per_class],
    )
