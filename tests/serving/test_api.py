"""The /v1 API against a real Ray Serve instance on loopback (auth on, tiny clips)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from serving_helpers import AUTH, TINY, make_args, submit, wait_job

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def tiny_clip(instances: Any, service_dir: Path) -> dict[str, Any]:
    """One generated tiny clip of class 3 (shared by the download / augment tests)."""
    svc = instances.get(make_args(service_dir))
    with httpx.Client(base_url=svc.url, timeout=30.0) as client:
        r = submit(client, {"class_id": 3, "seed": 0, **TINY})
        assert r.status_code == 202, r.text
        job = wait_job(client, r.json()["job_id"])
        assert job["state"] == "succeeded", job
        assert len(job["clip_ids"]) == 1
        clip = client.get(f"/v1/clips/{job['clip_ids'][0]}").json()
    return {"job": job, "clip": clip}


# ------------------------------------------------------------------------------ basics
def test_health_openapi_and_gallery_page(client: httpx.Client) -> None:
    h = client.get("/healthz")
    assert h.status_code == 200 and h.json()["status"] == "ok"
    assert h.json()["backends"] == ["sketch"]
    spec = client.get("/openapi.json").json()
    for path in (
        "/v1/clips",
        "/v1/jobs/{job_id}",
        "/v1/rollouts/whatif",
        "/v1/augment",
        "/v1/library/builds",
        "/v1/catalog/stats",
        "/v1/clips/{clip_id}/video",
    ):
        assert path in spec["paths"], path
    page = client.get("/")
    assert page.status_code == 200 and "wmgen" in page.text
    assert client.get("/static/app.js").status_code == 200


def test_classes_filter_and_lookup(client: httpx.Client) -> None:
    page = client.get("/v1/classes").json()
    assert page["total"] == len(page["items"]) > 100
    tag = page["items"][0]["tags"][0]
    filtered = client.get("/v1/classes", params={"tag": tag}).json()
    assert 0 < filtered["total"] <= page["total"]
    assert all(tag in c["tags"] for c in filtered["items"])
    one = client.get("/v1/classes/17")
    assert one.status_code == 200 and one.json()["class_id"] == 17
    assert one.json()["parameters"], "a class lists its parameters"
    assert client.get("/v1/classes/999999").status_code == 404
    bad = client.get("/v1/classes", params={"tag": "no-such-tag"})
    assert bad.status_code == 422 and bad.json()["field"] == "tag"


# ------------------------------------------------------------------- submit / download
def test_submit_poll_download_with_ranges(client: httpx.Client, tiny_clip: dict) -> None:
    clip = tiny_clip["clip"]
    cid = clip["clip_id"]
    assert clip["class_id"] == 3 and clip["width_px"] == 160 and clip["n_frames"] == 10
    kinds = {f["kind"] for f in clip["files"]}
    assert {"video", "labels", "thumbnail", "hdmap", "depth", "semantic"} <= kinds

    full = client.get(f"/v1/clips/{cid}/video")
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4"
    assert full.headers.get("accept-ranges") == "bytes"
    size = len(full.content)
    assert size == next(f["size_bytes"] for f in clip["files"] if f["kind"] == "video")
    part = client.get(f"/v1/clips/{cid}/video", headers={"Range": "bytes=100-299"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-299/{size}"
    assert part.content == full.content[100:300]
    tail = client.get(f"/v1/clips/{cid}/video", headers={"Range": f"bytes={size - 10}-"})
    assert tail.status_code == 206 and tail.content == full.content[-10:]
    assert (
        client.get(f"/v1/clips/{cid}/video", headers={"Range": f"bytes={size + 10}-"}).status_code
        == 416
    )

    depth = client.get(f"/v1/clips/{cid}/controls/depth")
    assert depth.status_code == 200 and depth.content[4:8] == b"ftyp"
    assert client.get(f"/v1/clips/{cid}/controls/lidar").status_code == 404
    labels = client.get(f"/v1/clips/{cid}/labels").json()
    assert labels["openlabel"]["metadata"]["schema_version"] == "1.0.0"
    thumb = client.get(f"/v1/clips/{cid}/thumbnail")
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"

    listed = client.get("/v1/clips", params={"class_id": 3}).json()
    assert cid in [c["clip_id"] for c in listed["items"]]
    assert (
        client.get("/v1/clips", params={"class_id": 3, "where": "nonsense"}).json()["field"]
        == "where"
    )

    # the same spec and seed in a new job: same content address, generated once
    again = submit(client, {"class_id": 3, "seed": 0, **TINY})
    job2 = wait_job(client, again.json()["job_id"])
    assert job2["state"] == "succeeded" and job2["clip_ids"] == [cid]
    after = client.get("/v1/clips", params={"class_id": 3}).json()
    assert [c["clip_id"] for c in after["items"]].count(cid) == 1


def test_idempotency_key(client: httpx.Client) -> None:
    body = {"class_id": 17, "seed": 0}  # the simplest body: default size and length
    first = submit(client, body, **{"Idempotency-Key": "idem-17-0"})
    assert first.status_code == 202 and first.json()["created"] is True
    second = submit(client, body, **{"Idempotency-Key": "idem-17-0"})
    assert second.status_code == 202
    assert second.json()["job_id"] == first.json()["job_id"] and second.json()["created"] is False
    other = submit(client, {"class_id": 17, "seed": 1}, **{"Idempotency-Key": "idem-17-0"})
    assert other.status_code == 409 and other.json()["field"] == "idempotency-key"
    job = wait_job(client, first.json()["job_id"])
    assert job["state"] == "succeeded", job
    clip = client.get(f"/v1/clips/{job['clip_ids'][0]}").json()
    assert (clip["width_px"], clip["height_px"], clip["n_frames"]) == (1280, 704, 50)


def test_cancel(client: httpx.Client) -> None:
    r = submit(client, {"class_id": 5, "seeds": [11, 12, 13, 14], **TINY})
    jid = r.json()["job_id"]
    d = client.delete(f"/v1/jobs/{jid}", headers=AUTH)
    assert d.status_code == 200 and d.json()["state"] == "cancelled"
    job = wait_job(client, jid)
    assert job["state"] == "cancelled"
    assert len(job["clip_ids"]) < 4, "a cancelled job stops before its last clip"
    assert client.delete(f"/v1/jobs/{jid}", headers=AUTH).json()["state"] == "cancelled"
    assert client.delete("/v1/jobs/" + "0" * 32, headers=AUTH).status_code == 404


def test_multi_seed_job_and_build(client: httpx.Client) -> None:
    r = submit(client, {"class_id": 8, "variants": 2, **TINY})
    assert r.json()["n_clips"] == 2
    job = wait_job(client, r.json()["job_id"])
    assert job["state"] == "succeeded" and len(set(job["clip_ids"])) == 2

    b = client.post(
        "/v1/library/builds", headers=AUTH, json={"classes": [8, 9], "variants": 2, **TINY}
    )
    assert b.status_code == 202, b.text
    bid = b.json()["job_id"]
    deadline_job = wait_job(client, bid, timeout_s=180)
    assert deadline_job["state"] == "succeeded", deadline_job
    build = client.get(f"/v1/library/builds/{bid}").json()
    res = build["result"]
    assert res["requested"] == 4 and res["failed"] == 0
    # class 8 seeds 0, 1 were made by the job above (same size): skipped, not redone
    assert res["skipped_existing"] >= 2 and res["generated"] + res["skipped_existing"] == 4
    assert len(set(build["clip_ids"])) == 4
    big = client.post("/v1/library/builds", headers=AUTH, json={"classes": "all", "variants": 1})
    assert big.status_code == 422


# --------------------------------------------------------------------------- what-if
def test_whatif(client: httpx.Client) -> None:
    r = client.post(
        "/v1/rollouts/whatif", json={"class_id": 17, "seed": 2, "n_plans": 4, "n_samples": 8}
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["class_id"] == 17 and len(out["plans"]) == 4
    assert 0 <= out["best_plan"] < 4
    bad = client.post("/v1/rollouts/whatif", json={"class_id": 17, "n_plans": 0})
    assert bad.status_code == 422 and bad.json()["field"] == "n_plans"


# --------------------------------------------------------------------------- augment
def test_augment_upload_and_catalogued(client: httpx.Client, tiny_clip: dict, service: Any) -> None:
    cid = tiny_clip["clip"]["clip_id"]
    video = client.get(f"/v1/clips/{cid}/video").content
    labels = client.get(f"/v1/clips/{cid}/labels").content
    files = {
        "file": ("../../../../tmp/evil name.mp4", video, "video/mp4"),
        "labels": ("../labels.json", labels, "application/json"),
    }
    r = client.post(
        "/v1/augment", headers=AUTH, data={"effects": "rain,noise", "seed": "1"}, files=files
    )
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["job_id"])
    assert job["state"] == "succeeded", job
    out = client.get(f"/v1/clips/{job['clip_ids'][0]}").json()
    assert "augmented" in out["tags"] and out["n_frames"] == 10
    # the upload is in the upload storage under its content address, with fixed names
    root = Path(service.args.resolved_upload_store)
    stored = [p for p in root.glob("clips/*/*/*") if not p.name.startswith("_")]
    assert {p.name for p in stored} >= {"source.mp4", "labels.json"}
    assert all(len(p.parent.name) == 32 and p.is_relative_to(root) for p in stored)
    assert not Path("/tmp/evil name.mp4").exists()

    bare = client.post(
        "/v1/augment",
        headers=AUTH,
        data={"effects": "night"},
        files={"file": ("clip.mp4", video, "video/mp4")},
    )
    bare_job = wait_job(client, bare.json()["job_id"])
    assert bare_job["state"] == "succeeded", bare_job
    bare_clip = client.get(f"/v1/clips/{bare_job['clip_ids'][0]}").json()
    assert bare_clip["class_id"] is None and "labels" not in {f["kind"] for f in bare_clip["files"]}

    by_id = client.post("/v1/augment", headers=AUTH, data={"effects": "fog", "clip_id": cid})
    job2 = wait_job(client, by_id.json()["job_id"])
    assert job2["state"] == "succeeded", job2
    assert client.get(f"/v1/clips/{job2['clip_ids'][0]}").json()["source_clip_id"] == cid

    text = client.post(
        "/v1/augment",
        headers=AUTH,
        data={"effects": "rain"},
        files={"file": ("a.mp4", b"hello, this is not a video" * 10, "video/mp4")},
    )
    assert text.status_code == 415 and text.json()["field"] == "file"
    broken = client.post(
        "/v1/augment",
        headers=AUTH,
        data={"effects": "rain"},
        files={"file": ("b.mp4", video[:64], "video/mp4")},
    )
    assert broken.status_code == 422 and broken.json()["field"] == "file"
    huge = client.post(
        "/v1/augment",
        headers=AUTH,
        data={"effects": "rain"},
        files={"file": ("c.mp4", video[:32] + b"\0" * (3 << 20), "video/mp4")},
    )
    assert huge.status_code == 413
    bad_effect = client.post(
        "/v1/augment", headers=AUTH, data={"effects": "lasers", "clip_id": cid}
    )
    assert bad_effect.status_code == 422 and bad_effect.json()["field"] == "effects"


# ------------------------------------------------------------------------ hardening
def test_malformed_requests_name_the_field(client: httpx.Client) -> None:
    cases: list[tuple[Any, str]] = [
        ({"class_id": "x", "seed": 0}, "class_id"),
        ({"class_id": 1, "seed": 0, "bogus": 1}, "bogus"),
        ({"class_id": 1, "seed": 0, "width_px": 161, "height_px": 96}, "width_px"),
        ({"class_id": 1, "seed": 0, "backend": "nope"}, "backend"),
        ({"class_id": 1, "seed": -1}, "seed"),
        ({"class_id": 1, "seeds": [1, 2, 3, 4, 5, 6], **TINY}, "seeds"),
        ({"class_id": 1, "seed": 0, **TINY, "width_px": 1920}, "width_px"),
        ({"class_id": 1, "seed": 0, "params": {"ego_speed_kmh": 1e9}}, "params"),
    ]
    for body, field in cases:
        r = submit(client, body)
        assert r.status_code == 422, (body, r.text)
        assert field in r.json()["field"] or field in r.json()["error"], (body, r.json())
    raw = client.post(
        "/v1/clips", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert raw.status_code == 422
    assert client.get("/v1/jobs/not-a-token").status_code == 404
    assert client.get("/v1/clips/" + "f" * 32).status_code == 404


def test_auth_on_write_endpoints(client: httpx.Client) -> None:
    body = {"class_id": 1, "seed": 0, **TINY}
    r = client.post("/v1/clips", json=body)
    assert r.status_code == 401 and "bearer" in r.headers["www-authenticate"].lower()
    assert (
        client.post("/v1/clips", json=body, headers={"Authorization": "Bearer wrong"}).status_code
        == 401
    )
    assert client.delete("/v1/jobs/" + "0" * 32).status_code == 401
    assert client.post("/v1/augment", data={"effects": "rain"}).status_code == 401
    assert client.get("/v1/clips").status_code == 200  # reads stay open


def test_limits_413_and_503(client: httpx.Client) -> None:
    big = {"class_id": 1, "seed": 0, "prompt": "x" * (100 * 1024)}
    r = submit(client, big)
    assert r.status_code == 413 and r.json()["field"] == "body"
    accepted: list[str] = []
    got_503 = None
    for i in range(40):  # the queue holds 6 jobs; clips drain far slower than this loop
        r = submit(client, {"class_id": 20 + (i % 40), "seeds": [100 + i], **TINY})
        if r.status_code == 503:
            got_503 = r
            break
        assert r.status_code == 202, r.text
        accepted.append(r.json()["job_id"])
    try:
        assert got_503 is not None, "the job queue never filled up"
        assert int(got_503.headers["retry-after"]) >= 1
    finally:
        for jid in accepted:
            client.delete(f"/v1/jobs/{jid}", headers=AUTH)
    for jid in accepted:  # zero lost jobs: every accepted job is final
        assert wait_job(client, jid)["state"] in {"succeeded", "cancelled"}


def test_metrics(client: httpx.Client, tiny_clip: dict) -> None:
    text = client.get("/metrics").text
    assert 'wmgen_http_requests_total{method="GET",route="/v1/jobs/{job_id}",status="200"}' in text
    assert "wmgen_http_request_seconds_bucket" in text
    assert 'wmgen_jobs{state="succeeded"}' in text
    assert 'wmgen_catalog_clips{backend="sketch"}' in text
    assert 'wmgen_clips_generated_total{backend="sketch"}' in text
    assert 'wmgen_generation_seconds_count{backend="sketch"}' in text
    stats = client.get("/v1/catalog/stats").json()
    assert stats["n_clips"] >= 1 and stats["clips_per_class"]["3"] >= 1
    assert json.dumps(stats)
