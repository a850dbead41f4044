"""Load test of the HTTP service: N concurrent clients for a while, then zero lost jobs.

    python bench/load.py                      # starts a local service (sketch, tiny clips)
    python bench/load.py --url http://127.0.0.1:8000 --token T --clients 200 --duration 60

Each client loops until the deadline: with probability ``--submit-fraction`` it submits a
small clip job (a few classes x seeds, so content addressing makes repeats cheap), otherwise
it queries the catalog. Afterwards every accepted job is polled until final (bounded by
``--drain-timeout``). Prints one JSON object: p50/p99 of submit and query latency [ms],
counts of 202 / 503 / other answers, the final state of every accepted job, and the CPU
milliseconds spent per request by the service's processes and by this client while the load
was held (``cpu_ms_per_request``; service figures only for a service started here). CPU per
request is the figure to compare between runs on a shared machine: wall-clock latency there
mostly measures the other tenants.
Loopback only: the URL must point at 127.0.0.1 / localhost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FINAL = {"succeeded", "failed", "cancelled"}


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


async def client_loop(
    i: int,
    http: httpx.AsyncClient,
    deadline: float,
    args: argparse.Namespace,
    submit_ms: list[float],
    query_ms: list[float],
    codes: Counter[str],
    jobs: list[str],
) -> None:
    rng = random.Random(args.seed * 100_003 + i)
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    for _ in range(1_000_000):  # bounded; the deadline ends it long before
        if time.monotonic() >= deadline:
            return
        t0 = time.perf_counter()
        try:
            if rng.random() < args.submit_fraction:
                body = {
                    "class_id": rng.randrange(args.n_classes),
                    "seed": rng.randrange(2),
                    "width_px": 160,
                    "height_px": 96,
                    "seconds": 1.0,
                    "fps": 10.0,
                }
                r = await http.post("/v1/clips", json=body, headers=headers)
                submit_ms.append((time.perf_counter() - t0) * 1e3)
                codes[f"submit_{r.status_code}"] += 1
                if r.status_code == 202:
                    jobs.append(r.json()["job_id"])
                elif r.status_code == 503:
                    await asyncio.sleep(min(float(r.headers.get("retry-after", 1)), 2.0))
            else:
                params: dict[str, Any] = {"class_id": rng.randrange(args.n_classes), "limit": 20}
                r = await http.get("/v1/clips", params=params)
                query_ms.append((time.perf_counter() - t0) * 1e3)
                codes[f"query_{r.status_code}"] += 1
        except httpx.HTTPError as exc:
            codes[f"error_{type(exc).__name__}"] += 1
            await asyncio.sleep(0.1)


async def drain(http: httpx.AsyncClient, jobs: list[str], timeout_s: float) -> dict[str, int]:
    """Poll every accepted job until final; returns {state: count} incl. 'lost'."""
    states: dict[str, str] = {}
    pending = list(dict.fromkeys(jobs))
    deadline = time.monotonic() + timeout_s
    sem = asyncio.Semaphore(32)

    async def poll(jid: str) -> None:
        async with sem:
            try:
                r = await http.get(f"/v1/jobs/{jid}")
                states[jid] = r.json()["state"] if r.status_code == 200 else f"http_{r.status_code}"
            except httpx.HTTPError:
                states[jid] = "unreachable"

    while pending and time.monotonic() < deadline:
        await asyncio.gather(*(poll(j) for j in pending))
        pending = [j for j in pending if states.get(j) not in FINAL]
        if pending:
            await asyncio.sleep(1.0)
    out = Counter(states[j] for j in dict.fromkeys(jobs) if states.get(j) in FINAL)
    out["lost"] = len(pending)
    return dict(out)


def cpu_seconds(service_started_here: bool) -> tuple[float, float]:
    """(CPU seconds of this process: the load client, plus the Ray driver of a service
    started here; of its child processes: the local Ray cluster and its Serve replicas
    when the service was started here, else 0)."""
    import psutil

    me = psutil.Process()
    t = me.cpu_times()
    own = t.user + t.system
    children = 0.0
    if service_started_here:
        for child in me.children(recursive=True):
            try:
                ct = child.cpu_times()
                children += ct.user + ct.system
            except psutil.Error:
                continue
    return own, children


async def run(args: argparse.Namespace, url: str, local: bool = False) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.clients + 16, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as http:
        submit_ms: list[float] = []
        query_ms: list[float] = []
        codes: Counter[str] = Counter()
        jobs: list[str] = []
        cpu0 = cpu_seconds(local)
        t0 = time.monotonic()
        deadline = t0 + args.duration
        await asyncio.gather(
            *(
                client_loop(i, http, deadline, args, submit_ms, query_ms, codes, jobs)
                for i in range(args.clients)
            )
        )
        held_s = time.monotonic() - t0
        cpu1 = cpu_seconds(local)
        n_req = max(len(submit_ms) + len(query_ms), 1)
        t1 = time.monotonic()
        final = await drain(http, jobs, args.drain_timeout)
        return {
            "clients": args.clients,
            "duration_s": round(held_s, 2),
            "requests": len(submit_ms) + len(query_ms),
            "requests_per_s": round((len(submit_ms) + len(query_ms)) / held_s, 1),
            "submit": {
                "n": len(submit_ms),
                "p50_ms": pct(submit_ms, 50),
                "p99_ms": pct(submit_ms, 99),
                "accepted_202": codes.get("submit_202", 0),
                "rejected_503": codes.get("submit_503", 0),
            },
            "query": {
                "n": len(query_ms),
                "p50_ms": pct(query_ms, 50),
                "p99_ms": pct(query_ms, 99),
                "ok_200": codes.get("query_200", 0),
                "rejected_503": codes.get("query_503", 0),
            },
            "status_counts": dict(sorted(codes.items())),
            "accepted_jobs": len(set(jobs)),
            "job_final_states": final,
            "lost_jobs": final.get("lost", 0),
            "drain_s": round(time.monotonic() - t1, 2),
            "cpu_ms_per_request": {
                "service": round(1e3 * (cpu1[1] - cpu0[1]) / n_req, 2) if local else None,
                "client": round(1e3 * (cpu1[0] - cpu0[0]) / n_req, 2),
            },
        }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a running service (loopback); default: start one here")
    p.add_argument("--token", default=None, help="bearer token for POST /v1/clips")
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--duration", type=float, default=60.0, help="seconds to hold the load")
    p.add_argument("--submit-fraction", type=float, default=0.2)
    p.add_argument("--n-classes", type=int, default=16, help="classes 0..N-1 are requested")
    p.add_argument("--drain-timeout", type=float, default=600.0)
    p.add_argument("--max-queued-jobs", type=int, default=100, help="for a started service")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="also write the JSON result to this file")
    args = p.parse_args()

    service = None
    url = args.url
    if url is None:
        from serving.local import LocalService
        from serving.settings import AppArgs

        data = tempfile.mkdtemp(prefix="wmgen-load-")
        service = LocalService(
            AppArgs(
                data_dir=data,
                catalog_url=None,
                storage=None,
                api_token="",
                max_queued_jobs=args.max_queued_jobs,
                backends=("sketch",),
            )
        ).start()
        url = service.url
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"--url={url!r}: the load test only targets loopback addresses")
    try:
        result = asyncio.run(run(args, url, local=service is not None))
    finally:
        if service is not None:
            service.stop()
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if result["lost_jobs"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
