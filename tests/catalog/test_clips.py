"""Clips in the catalog: round trip, idempotent insert, queries, paging, coverage stats.
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest

from scenario_library.catalog import Catalog, ClipQuery, ClipRecord, FileRef, ParamRange
from scenario_library.errors import CatalogNotFoundError

BACKENDS = ["sketch", "wan_vace"]
TAGS_BY_CLASS = {
    0: ["family:cut_in", "road:highway", "weather:rain", "light:day", "high_speed"],
    1: ["family:cut_in", "road:urban", "weather:clear", "light:night"],
    2: ["family:pedestrian_crossing", "road:urban", "weather:rain", "light:night", "vru"],
    3: ["family:hard_brake", "road:highway", "weather:fog", "light:dusk"],
    4: ["family:animal", "road:rural", "weather:clear", "light:night", "vru", "occlusion"],
}


def token(i: int) -> str:
    return hashlib.sha256(f"clip-{i}".encode()).hexdigest()[:32]


def make_record(i: int, rng: random.Random | None = None, **kw: object) -> ClipRecord:
    rng = rng or random.Random(i)
    class_id = i % len(TAGS_BY_CLASS)
    tags = list(TAGS_BY_CLASS[class_id])
    if i % 7 == 0:
        tags.append("aug:fog")
    fields: dict[str, object] = dict(
        token=token(i),
        class_id=class_id,
        class_name=f"class_{class_id}",
        tags=tags,
        params={"ego_speed_kmh": float(rng.randint(0, 130)), "gap_m": round(rng.uniform(2, 40), 2)},
        seed=i,
        backend=BACKENDS[i % 3 == 0],
        spec={"class_id": class_id, "seed": i, "params": {"gap_m": 10.0}},
        provenance={"code_version": "0.1.0", "backend_version": "sketch-1"},
        files=[
            FileRef(kind="video", uri=f"file:///lib/{i}/video.mp4", sha256="a" * 64, size_bytes=1000 + i),
            FileRef(kind="labels", uri=f"file:///lib/{i}/labels.json", sha256="b" * 64, size_bytes=10),
        ],
        quality={"passed": True, "metrics": {"min_px": 12}},
        width_px=1280,
        height_px=704,
        fps=10.0,
        n_frames=50,
        source_clip_token=token(i - 1) if i % 11 == 0 and i else None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i, microseconds=i),
    )  # fmt: skip
    fields.update(kw)
    return ClipRecord(**fields)  # type: ignore[arg-type]


def fill(cat: Catalog, n: int) -> list[ClipRecord]:
    recs = [make_record(i) for i in range(n)]
    for r in recs:
        assert cat.add_clip(r) is True
    return recs


def test_round_trip_and_not_found(catalog: Catalog) -> None:
    rec = make_record(11)
    assert not catalog.has_clip(rec.token)
    assert catalog.add_clip(rec) is True
    assert catalog.has_clip(rec.token)
    got = catalog.get_clip(rec.token)
    assert got == rec  # every field, incl. files order, JSON dicts, tz-aware created_at
    assert got.file("labels").size_bytes == 10
    with pytest.raises(CatalogNotFoundError):
        catalog.get_clip(token(999))
    assert catalog.get_clips([rec.token]) == [rec]


def test_add_is_idempotent(catalog: Catalog) -> None:
    rec = make_record(1)
    assert catalog.add_clip(rec) is True
    # Same token again (even with other content): stored once, nothing changes.
    assert catalog.add_clip(rec) is False
    assert catalog.add_clip(make_record(1, seed=12345)) is False
    page = catalog.query_clips(ClipQuery(with_total=True))
    assert page.total == 1 and page.items[0].seed == 1
    stats = catalog.stats()
    assert stats.n_clips == 1 and stats.clips_per_class == {1: 1}


def test_concurrent_inserts_of_one_token(catalog: Catalog) -> None:
    rec = make_record(5)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        results.append(catalog.add_clip(rec))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert catalog.stats().n_clips == 1


def _reference(recs: list[ClipRecord], q: ClipQuery) -> list[str]:
    import operator

    ops = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
           "=": operator.eq, "!=": operator.ne}  # fmt: skip
    out = []
    for r in recs:
        if q.class_id is not None and r.class_id != q.class_id:
            continue
        if q.backend is not None and r.backend != q.backend:
            continue
        if not set(q.tags) <= set(r.tags):
            continue
        if not all(w.name in r.params and ops[w.op](r.params[w.name], w.value) for w in q.where):
            continue
        out.append(r.token)
    return out[::-1] if q.newest_first else out  # insertion order = id order


def test_queries_match_a_brute_force_reference(catalog: Catalog) -> None:
    recs = fill(catalog, 60)
    all_tags = sorted({t for r in recs for t in r.tags})
    rng = random.Random(7)
    for _ in range(60):
        q = ClipQuery(
            class_id=rng.choice([None, None, rng.randrange(6)]),
            tags=rng.sample(all_tags, rng.choice([0, 1, 2, 3])),
            where=[
                ParamRange(
                    name=rng.choice(["ego_speed_kmh", "gap_m", "missing_x"]),
                    op=rng.choice([">", ">=", "<", "<=", "=", "!="]),
                    value=float(rng.randint(0, 130)),
                )
                for _ in range(rng.choice([0, 0, 1, 2]))
            ],
            backend=rng.choice([None, None, *BACKENDS]),
            limit=rng.choice([1, 3, 50]),
            offset=rng.choice([0, 0, 2]),
            newest_first=rng.random() < 0.7,
            with_total=rng.random() < 0.5,
        )
        want = _reference(recs, q)
        page = catalog.query_clips(q)
        assert [r.token for r in page.items] == want[q.offset : q.offset + q.limit], q
        more = len(want) > q.offset + q.limit
        assert page.next_offset == (q.offset + q.limit if more else None)
        if q.with_total or page.total is not None:
            assert page.total == len(want)


def test_specific_queries_and_paging(catalog: Catalog) -> None:
    recs = fill(catalog, 30)
    q = ClipQuery(tags=["road:urban", "light:night"], limit=4)
    expected = [r.token for r in reversed(recs) if r.class_id in (1, 2)]
    assert len(expected) == 12
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = catalog.query_clips(q.model_copy(update={"offset": offset}))
        assert page.total == 12  # tags only: exact count from the tag-set counters
        seen += [r.token for r in page.items]
        offset = page.next_offset
    assert seen == expected
    by_class = catalog.query_clips(ClipQuery(class_id=4))
    assert by_class.total == 6 and all(r.class_id == 4 for r in by_class.items)
    fast = catalog.query_clips(ClipQuery(where=["ego_speed_kmh>60"], tags=["road:highway"]))
    assert fast.items and all(
        r.params["ego_speed_kmh"] > 60 and "road:highway" in r.tags for r in fast.items
    )
    assert catalog.query_clips(ClipQuery(backend="wan_vace")).total == 10
    empty = catalog.query_clips(ClipQuery(tags=["family:cut_in", "vru"]))
    assert empty.items == [] and empty.total == 0 and empty.next_offset is None
    assert catalog.query_clips(ClipQuery(tags=["no-such-tag"])).total == 0
    assert len(list(catalog.iter_clips(ClipQuery(limit=7)))) == 30


def test_planner_picks_rarest_driver(catalog: Catalog) -> None:
    fill(catalog, 30)
    driver, plan = catalog.explain_query(ClipQuery(tags=["road:urban", "vru", "light:night"]))
    assert driver == "tagsets" and plan
    assert catalog.explain_query(ClipQuery(tags=["vru", "family:cut_in"]))[0] == "empty"
    if catalog.dialect == "sqlite":
        joined = " ".join(plan)
        assert "ix_clip_tagset_id" in joined and "SCAN clip " not in joined


def test_coverage_stats(catalog: Catalog) -> None:
    recs = fill(catalog, 12)
    stats = catalog.stats()
    assert stats.n_clips == 12 and stats.n_classes == 1024
    assert stats.clips_per_class == {0: 3, 1: 3, 2: 2, 3: 2, 4: 2}
    assert stats.clips_per_tag["road:urban"] == 5
    assert stats.clips_per_tag["aug:fog"] == 2  # clips 0 and 7
    assert stats.clips_per_tag["vru"] == 4
    assert stats.clips_per_backend == {"sketch": 8, "wan_vace": 4}
    assert stats.classes_without_clips == list(range(5, 1024))
    assert stats.n_classes_covered == 5
    # Rebuilding the counters from the rows gives the same figures.
    catalog.rebuild_stats()
    assert catalog.stats() == stats
    assert catalog.existing_tokens([recs[0].token, token(500)]) == {recs[0].token}


def test_small_taxonomy_and_restart(catalog_url: str) -> None:
    cat = Catalog(catalog_url, n_classes=8)
    cat.add_clip(make_record(3))
    cat.close()
    again = Catalog(catalog_url, n_classes=8)  # create_all again: idempotent
    try:
        assert again.stats().classes_without_clips == [0, 1, 2, 4, 5, 6, 7]
        assert again.schema_version() == 1
    finally:
        again.close()
