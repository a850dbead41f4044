"""The FastAPI application behind the ingress deployment: routes, limits, auth, errors.

Routes read their collaborators from ``app.state.svc`` (a :class:`Services`; the ingress
replica builds the app with ``create_app(services)`` at init time): the replica's own
``CatalogAccess`` (a connection pool behind a thread pool: catalog reads and job creation
cost no deployment-handle hop), handles for the scene worker and the catalog deployment
(generation counters), the clip ``Storage`` for streaming files and the upload ``Storage``. Domain errors are translated here into 4xx
answers whose message names the request field; nothing malformed becomes a 500.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, Header, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving import schemas as S
from serving.errors import (
    ApiError,
    InvalidFieldError,
    NotFoundError,
    OverloadedError,
    UnauthorizedError,
)
from serving.metrics import HttpMetrics, render_metrics
from serving.settings import AppArgs

log = logging.getLogger("wmgen.serving.api")

API_VERSION = "0.1.0"
GALLERY_DIR = Path(__file__).parent / "gallery"
CONTROL_KINDS = ("hdmap", "depth", "semantic", "instance")
TOKEN_PATTERN = r"^[0-9a-f]{32}$"
UPLOAD_PATHS = ("/v1/augment",)

ClipId = Annotated[str, PathParam(description="clip content address (32 hex)")]
JobId = Annotated[str, PathParam(description="job token (32 hex)")]


@dataclass
class Services:
    """What the routes use; built once per ingress replica."""

    args: AppArgs
    catalog: Any  # DeploymentHandle[CatalogService]: generation counters
    db: Any  # serving.catalog_access.CatalogAccess: this replica's own pool (reads, new jobs)
    scene: Any  # DeploymentHandle[SceneWorker]
    storage: Any  # scenario_library.storage.Storage
    metrics: HttpMetrics
    uploads: Any = None  # scenario_library.storage.Storage of uploaded clips


def svc(request: Request) -> Services:
    return request.app.state.svc  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- ASGI middleware
class LimitsMiddleware:
    """413 for bodies over the limit (Content-Length or counted while streaming), request
    metrics. Pure ASGI so that it also sees bodies FastAPI has not parsed yet."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        services: Services | None = getattr(self.fastapi_app.state, "svc", None)
        args = services.args if services else AppArgs()
        path: str = scope.get("path", "")
        limit = args.max_upload_bytes if path.startswith(UPLOAD_PATHS) else args.max_body_bytes
        t0 = time.perf_counter()
        status_box = [500]

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = int(message["status"])
            await send(message)

        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        try:
            too_big = length is not None and int(length) > limit
        except ValueError:
            too_big = False
        if too_big:
            await _send_json(
                send_wrapped,
                413,
                {
                    "error": f"body: {int(length or 0)} bytes exceed the limit of {limit} bytes",
                    "field": "body",
                },
            )
        else:
            received = 0
            overflow = False
            started = False

            async def receive_counted() -> Message:
                nonlocal received, overflow
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        overflow = True
                        return {"type": "http.disconnect"}
                return message

            async def send_guarded(message: Message) -> None:
                nonlocal started
                if overflow and not started:
                    started = True
                    await _send_json(
                        send_wrapped,
                        413,
                        {"error": f"body: exceeds the limit of {limit} bytes", "field": "body"},
                    )
                    return
                if overflow:
                    return
                if message["type"] == "http.response.start":
                    started = True
                await send_wrapped(message)

            try:
                await self.app(scope, receive_counted, send_guarded)
            except Exception:
                if not overflow:
                    raise
                if not started:
                    await _send_json(
                        send_wrapped,
                        413,
                        {"error": f"body: exceeds the limit of {limit} bytes", "field": "body"},
                    )
        if services is not None:
            route = scope.get("route")
            name = getattr(route, "path", None) or (
                "static" if path.startswith("/static") else "unmatched"
            )
            services.metrics.observe(scope["method"], name, status_box[0], time.perf_counter() - t0)


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


# ------------------------------------------------------------------------ error handling
def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or (str(loc[0]) if loc else "request")


def _validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    clean = [
        {
            "field": _loc(e.get("loc", ())),
            "message": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    first = clean[0] if clean else {"field": "request", "message": "invalid request"}
    msg = "; ".join(f"{c['field']}: {c['message']}" for c in clean[:5])
    return JSONResponse(
        status_code=422, content={"error": msg, "field": first["field"], "detail": clean}
    )


def _error(
    status: int, message: str, field: str = "", headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": message, "field": field}, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    from generator.errors import AugmentError, BackendRequestError, UnknownBackendError
    from scenario_library.errors import CatalogConflictError, CatalogNotFoundError, SpecError

    @app.exception_handler(RequestValidationError)
    async def _rve(_r: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_response(list(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _ve(_r: Request, exc: ValidationError) -> JSONResponse:
        return _validation_response([dict(e) for e in exc.errors()])

    @app.exception_handler(ApiError)
    async def _api(_r: Request, exc: ApiError) -> JSONResponse:
        headers = None
        if isinstance(exc, OverloadedError):
            headers = {"Retry-After": str(exc.retry_after_s)}
        if isinstance(exc, UnauthorizedError):
            headers = {"WWW-Authenticate": 'Bearer realm="wmgen"'}
        return _error(exc.status_code, exc.message, exc.field, headers)

    @app.exception_handler(SpecError)
    async def _spec(_r: Request, exc: SpecError) -> JSONResponse:
        return _error(422, str(exc), exc.field)

    @app.exception_handler(CatalogNotFoundError)
    async def _nf(_r: Request, exc: CatalogNotFoundError) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(CatalogConflictError)
    async def _conf(_r: Request, exc: CatalogConflictError) -> JSONResponse:
        return _error(409, str(exc))

    for cls, field in (
        (AugmentError, "effects"),
        (BackendRequestError, "backend"),
        (UnknownBackendError, "backend"),
    ):

        async def _gen(_r: Request, exc: Exception, field: str = field) -> JSONResponse:
            # NeuralEffectError (an AugmentError) names its own field
            return _error(422, str(exc), str(getattr(exc, "field", field)))

        app.add_exception_handler(cls, _gen)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))


# ------------------------------------------------------------------------------ helpers
async def require_token(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Write endpoints: bearer token when ``WMGEN_API_TOKEN`` is set (async: a sync
    dependency would cost every write request a thread-pool round trip)."""
    args = svc(request).args
    if not args.auth_enabled:
        return
    expected = f"Bearer {args.api_token}".encode()
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected):
        raise UnauthorizedError(
            "authorization: a valid bearer token is required", field="authorization"
        )


def check_id(value: str, field: str, what: str) -> str:
    import re

    if not re.match(TOKEN_PATTERN, value):
        raise NotFoundError(
            f"{field}={value!r}: no such {what} (ids are 32 hex characters)", field=field
        )
    return value


def clip_out(record: Any) -> S.ClipOut:
    base = f"/v1/clips/{record.token}"
    urls = {
        "video": f"{base}/video",
        "labels": f"{base}/labels",
        "thumbnail": f"{base}/thumbnail",
        **{k: f"{base}/controls/{k}" for k in CONTROL_KINDS},
    }
    return S.ClipOut(
        clip_id=record.token,
        class_id=record.class_id,
        class_name=record.class_name,
        tags=list(record.tags),
        params=dict(record.params),
        seed=record.seed,
        backend=record.backend,
        width_px=record.width_px,
        height_px=record.height_px,
        fps=record.fps,
        n_frames=record.n_frames,
        created_at=record.created_at,
        source_clip_id=record.source_clip_token,
        provenance=dict(record.provenance),
        quality=dict(record.quality),
        files=[
            S.FileOut(
                kind=f.kind, url=urls.get(f.kind, ""), sha256=f.sha256, size_bytes=f.size_bytes
            )
            for f in record.files
        ],
    )


def job_out(job: Any) -> S.JobOut:
    from serving.jobs import lease_state

    result: dict[str, Any] = {}
    if job.kind.startswith("build") and job.message:
        try:
            result = json.loads(job.message)
        except ValueError:
            result = {}
    return S.JobOut(
        job_id=job.token,
        kind=job.kind,
        state=str(job.state.value if hasattr(job.state, "value") else job.state),  # type: ignore[arg-type]
        progress=float(job.progress),
        message=job.message,
        clip_ids=list(job.clip_tokens),
        error=job.error,
        attempts=int(job.attempts),
        created_at=job.created_at,
        updated_at=job.updated_at,
        result=result,
        lease_expires_at=getattr(job, "lease_expires_at", None),
        stale=lease_state(job) == "expired",
    )


def _json(model: Any, status_code: int = 200) -> Response:
    """A pydantic model as a JSON response, serialised once (the hot read routes return
    this rather than the model, which FastAPI would validate again against the
    ``response_model`` before serialising it)."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def class_out(c: Any) -> S.ClassOut:
    def s(v: Any) -> str:
        return str(getattr(v, "value", v))

    return S.ClassOut(
        class_id=int(c.class_id),
        name=str(c.name),
        family=s(c.family),
        road_context=s(c.road_context),
        weather=s(c.weather),
        lighting=s(c.lighting),
        tags=list(c.tags),
        parameters=[
            S.ParameterOut(
                name=p.name,
                unit=str(p.unit),
                low=float(p.low),
                high=float(p.high),
                default=float(p.default),
                description=str(p.description or ""),
            )
            for p in c.parameters
        ],
    )


def _taxonomy() -> Any:
    from scenario_library.taxonomy import TAXONOMY

    return TAXONOMY


def _check_size(args: AppArgs, width: int, height: int, seconds: float) -> None:
    if width > args.max_width_px:
        raise InvalidFieldError("width_px", width, f"at most {args.max_width_px} on this server")
    if height > args.max_height_px:
        raise InvalidFieldError("height_px", height, f"at most {args.max_height_px} on this server")
    if seconds > args.max_seconds:
        raise InvalidFieldError("seconds", seconds, f"at most {args.max_seconds} on this server")


def _check_backend(args: AppArgs, backend: str) -> None:
    if backend not in args.backends:
        raise InvalidFieldError(
            "backend", backend, f"not served here; this server runs {list(args.backends)}"
        )


async def _create_job(
    s: Services, kind: str, payload: dict[str, Any], key: str | None
) -> tuple[Any, bool]:
    outcome, job, created = await s.db.create_job(kind, payload, key)
    if outcome == "overloaded":
        raise OverloadedError(
            f"job queue is full ({s.args.max_queued_jobs} queued); retry later",
            retry_after_s=s.args.retry_after_s,
        )
    if outcome == "conflict":
        raise ApiError(
            "idempotency-key: already used for a different request",
            field="idempotency-key",
            status_code=409,
        )
    return job, created


def _accepted(job: Any, created: bool, n: int) -> JSONResponse:
    body = S.JobAccepted(
        job_id=job.token,
        state=job.state.value,
        created=created,
        n_clips=n,
        poll=f"/v1/jobs/{job.token}",
    )
    return JSONResponse(
        status_code=202, content=body.model_dump(mode="json"), headers={"Location": body.poll}
    )


IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


# ------------------------------------------------------------------------------ the app
def create_app(services: Services | None = None) -> FastAPI:
    """The FastAPI app; ``services`` None gives an app for the OpenAPI document only."""
    app = FastAPI(
        title="wmgen",
        version=API_VERSION,
        description="World-model scenario generator: corner-case classes -> labelled clips.",
        responses={422: {"model": S.ErrorOut}},
    )
    app.state.svc = services
    install_error_handlers(app)
    app.add_middleware(LimitsMiddleware, fastapi_app=app)
    write = [Depends(require_token)]

    # ---------------------------------------------------------------- health / metrics
    @app.get("/healthz", response_model=S.HealthOut, tags=["ops"])
    async def healthz(request: Request) -> S.HealthOut:
        s = svc(request)
        counts = await s.db.job_counts()
        url = s.args.resolved_catalog_url
        return S.HealthOut(
            status="ok",
            version=API_VERSION,
            backends=list(s.args.backends),
            catalog=url.split(":", 1)[0],
            jobs=counts,
        )

    @app.get("/metrics", tags=["ops"], response_class=Response)
    async def metrics(request: Request) -> Response:
        s = svc(request)
        counts, per_backend, gen = await asyncio.gather(
            s.db.job_counts(),
            s.db.clips_per_backend(),
            s.catalog.generation_stats.remote(),
        )
        return Response(
            render_metrics(s.metrics, counts, per_backend, gen),
            media_type="text/plain; version=0.0.4",
        )

    # ------------------------------------------------------------------------ classes
    @app.get("/v1/classes", response_model=S.ClassPage, tags=["classes"])
    async def list_classes(
        tag: Annotated[list[str], Query(max_length=32, description="all must match")] = [],  # noqa: B006
        limit: Annotated[int, Query(ge=1, le=2000)] = 2000,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> S.ClassPage:
        tax = _taxonomy()
        if tag:
            known = set(tax.tags())
            for t in tag:
                if t not in known:
                    raise InvalidFieldError("tag", t, "unknown tag (see the tags of /v1/classes)")
            classes = tax.match(tag)
        else:
            classes = tax.all()
        items = [class_out(c) for c in classes[offset : offset + limit]]
        return S.ClassPage(items=items, total=len(classes))

    @app.get("/v1/classes/{class_id}", response_model=S.ClassOut, tags=["classes"])
    async def get_class(request: Request, class_id: int) -> S.ClassOut:
        from scenario_library.errors import UnknownClassError

        try:
            c = _taxonomy().get(class_id)
        except (UnknownClassError, KeyError, IndexError):
            raise NotFoundError(f"class_id={class_id}: no such class", field="class_id") from None
        stats = await svc(request).db.stats()
        out = class_out(c)
        return out.model_copy(update={"n_clips": int(stats.clips_per_class.get(c.class_id, 0))})

    # -------------------------------------------------------------------------- clips
    @app.post(
        "/v1/clips",
        status_code=202,
        response_model=S.JobAccepted,
        tags=["clips"],
        dependencies=write,
    )
    async def submit_clips(
        request: Request, body: S.ClipJobRequest, idempotency_key: IdemKey = None
    ) -> JSONResponse:
        from generator.pipeline import ClipRequest, check_request_for_backend
        from scenario_library.spec import ScenarioSpec

        s = svc(request)
        _check_backend(s.args, body.backend)
        _check_size(s.args, body.width_px, body.height_px, body.seconds)
        seeds = body.seed_list()
        if len(seeds) > s.args.max_clips_per_job:
            raise InvalidFieldError(
                "seeds", len(seeds), f"at most {s.args.max_clips_per_job} clips per job"
            )
        spec = ScenarioSpec(class_id=body.class_id, tags=list(body.tags), params=dict(body.params))
        reqs = [
            ClipRequest(
                spec=spec,
                seed=seed,
                backend=body.backend,
                width_px=body.width_px,
                height_px=body.height_px,
                fps=body.fps,
                seconds=body.seconds,
                prompt=body.prompt,
            )
            for seed in seeds
        ]
        check_request_for_backend(reqs[0])
        spec.resolve(seeds[0])  # a tag combination no class has is a 422 now, not a failed job
        payload = {"requests": [r.model_dump(mode="json") for r in reqs]}
        job, created = await _create_job(s, "clips", payload, idempotency_key)
        return _accepted(job, created, len(reqs))

    @app.get("/v1/clips", response_model=S.ClipPageOut, tags=["clips"])
    async def query_clips(
        request: Request,
        class_id: Annotated[int | None, Query(ge=0, lt=1_000_000)] = None,
        tag: Annotated[list[str], Query(max_length=32)] = [],  # noqa: B006
        where: Annotated[list[str], Query(max_length=16, description="e.g. ego_speed_kmh>60")] = [],  # noqa: B006
        backend: Annotated[str | None, Query(max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        with_total: bool = True,
    ) -> Response:
        from scenario_library.catalog import ClipQuery, parse_where

        q = ClipQuery(
            class_id=class_id,
            tags=tag,
            where=[parse_where(w) for w in where],
            backend=backend,
            limit=limit,
            offset=offset,
            with_total=with_total,
        )
        page = await svc(request).db.query_clips(q)
        return _json(
            S.ClipPageOut(
                items=[clip_out(r) for r in page.items],
                total=page.total,
                next_offset=page.next_offset,
            )
        )

    async def _record(request: Request, clip_id: str) -> Any:
        check_id(clip_id, "clip_id", "clip")
        rec = await svc(request).db.get_clip(clip_id)
        if rec is None:
            raise NotFoundError(f"clip_id={clip_id!r}: no such clip", field="clip_id")
        return rec

    async def _file(request: Request, clip_id: str, kind: str, media_type: str) -> FileResponse:
        rec = await _record(request, clip_id)
        ref = next((f for f in rec.files if f.kind == kind), None)
        if ref is None:
            raise NotFoundError(
                f"clip {clip_id} has no {kind!r} file; has {[f.kind for f in rec.files]}",
                field="kind",
            )
        path = await asyncio.to_thread(svc(request).storage.local_path, ref.uri)
        return FileResponse(
            path,
            media_type=media_type,
            headers={
                "Cache-Control": "public, max-age=31536000, immutable",
                "ETag": f'"{ref.sha256[:32]}"',
            },
        )

    @app.get("/v1/clips/{clip_id}", response_model=S.ClipOut, tags=["clips"])
    async def get_clip(request: Request, clip_id: ClipId) -> Response:
        return _json(clip_out(await _record(request, clip_id)))

    @app.get(
        "/v1/clips/{clip_id}/video",
        tags=["clips"],
        response_class=FileResponse,
        responses={206: {"description": "partial content (Range)"}},
    )
    async def clip_video(request: Request, clip_id: ClipId) -> FileResponse:
        return await _file(request, clip_id, "video", "video/mp4")

    @app.get("/v1/clips/{clip_id}/controls/{kind}", tags=["clips"], response_class=FileResponse)
    async def clip_controls(request: Request, clip_id: ClipId, kind: str) -> FileResponse:
        if kind not in CONTROL_KINDS:
            raise NotFoundError(
                f"kind={kind!r}: control maps are {list(CONTROL_KINDS)}", field="kind"
            )
        return await _file(request, clip_id, kind, "video/mp4")

    @app.get("/v1/clips/{clip_id}/labels", tags=["clips"], response_class=FileResponse)
    async def clip_labels(request: Request, clip_id: ClipId) -> FileResponse:
        return await _file(request, clip_id, "labels", "application/json")

    @app.get("/v1/clips/{clip_id}/thumbnail", tags=["clips"], response_class=FileResponse)
    async def clip_thumbnail(request: Request, clip_id: ClipId) -> FileResponse:
        return await _file(request, clip_id, "thumbnail", "image/jpeg")

    # --------------------------------------------------------------------------- jobs
    @app.get("/v1/jobs/{job_id}", response_model=S.JobOut, tags=["jobs"])
    async def get_job(request: Request, job_id: JobId) -> Response:
        check_id(job_id, "job_id", "job")
        job = await svc(request).db.get_job(job_id)
        if job is None:
            raise NotFoundError(f"job_id={job_id!r}: no such job", field="job_id")
        return _json(job_out(job))

    @app.delete("/v1/jobs/{job_id}", response_model=S.JobOut, tags=["jobs"], dependencies=write)
    async def cancel_job(request: Request, job_id: JobId) -> S.JobOut:
        check_id(job_id, "job_id", "job")
        job = await svc(request).db.cancel_job(job_id)
        if job is None:
            raise NotFoundError(f"job_id={job_id!r}: no such job", field="job_id")
        return job_out(job)

    # -------------------------------------------------------------------------- what-if
    @app.post("/v1/rollouts/whatif", response_model=S.WhatIfOut, tags=["rollouts"])
    async def whatif(request: Request, body: S.WhatIfRequest) -> S.WhatIfOut:
        from scenario_library.spec import ScenarioSpec

        spec = ScenarioSpec(class_id=body.class_id, tags=list(body.tags), params=dict(body.params))
        spec.resolve(body.seed)
        out = await svc(request).scene.whatif.remote(
            spec.model_dump(mode="json"), body.seed, body.n_plans, body.n_samples
        )
        if "error" in out:
            raise ApiError(out["error"], field=out["field"], status_code=422)
        return S.WhatIfOut.model_validate(out)

    # -------------------------------------------------------------------------- augment
    @app.post(
        "/v1/augment",
        status_code=202,
        response_model=S.JobAccepted,
        tags=["augment"],
        dependencies=write,
    )
    async def augment(
        request: Request,
        effects: Annotated[
            str,
            Form(
                max_length=500,
                description="classical effects, comma list, e.g. rain,fog,night (may be empty "
                "when a neural effect is chosen)",
            ),
        ] = "",
        seed: Annotated[int, Form(ge=0, lt=2**31)] = 0,
        clip_id: Annotated[str | None, Form(description="augment a catalogued clip")] = None,
        file: Annotated[
            UploadFile | None, File(description="a video (mp4/mov/mkv/webm/avi)")
        ] = None,
        labels: Annotated[
            UploadFile | None, File(description="OpenLABEL JSON of the upload")
        ] = None,
        restyle_weather: Annotated[
            str | None,
            Form(max_length=32, description="neural restyle to this weather (clear/rain/fog/snow)"),
        ] = None,
        restyle_lighting: Annotated[
            str | None,
            Form(max_length=32, description="neural restyle to this light (day/dusk/night/...)"),
        ] = None,
        strength: Annotated[
            float, Form(gt=0.0, le=1.0, description="restyle strength: 0 keeps, 1 replaces")
        ] = 0.5,
        prompt: Annotated[str, Form(max_length=500, description="extra neural prompt")] = "",
        insert_class_id: Annotated[
            int | None,
            Form(ge=0, lt=1_000_000, description="neural: insert this class's hazard actor"),
        ] = None,
        insert_seed: Annotated[int, Form(ge=0, lt=2**31)] = 0,
        insert_offset_x_px: Annotated[int, Form(ge=-4096, le=4096)] = 0,
        insert_offset_y_px: Annotated[int, Form(ge=-4096, le=4096)] = 0,
        idempotency_key: IdemKey = None,
    ) -> JSONResponse:
        from generator.augment import EFFECTS
        from generator.augment.neural import NeuralEffects
        from serving.neural_augment import check_available
        from serving.uploads import store_upload

        s = svc(request)
        names = [e.strip() for e in effects.split(",") if e.strip()]
        for e in names:
            if e not in EFFECTS:
                raise InvalidFieldError(
                    "effects", e, f"unknown effect; choose from {EFFECTS.names()}"
                )
        neural = NeuralEffects(
            restyle_weather=restyle_weather or None,  # type: ignore[arg-type]
            restyle_lighting=restyle_lighting or None,  # type: ignore[arg-type]
            strength=strength,
            prompt=prompt,
            insert_class_id=insert_class_id,
            insert_seed=insert_seed,
            insert_offset_px=(insert_offset_x_px, insert_offset_y_px),
        )
        if not names and not neural.any:
            raise InvalidFieldError(
                "effects", effects, "give at least one effect (classical or neural)"
            )
        if neural.any:
            check_available(neural, s.args.model_dir, strict=False)  # 422: no model
        if neural.insert:
            try:
                _taxonomy().get(insert_class_id)
            except Exception:
                raise InvalidFieldError(
                    "insert_class_id", insert_class_id, "no such class"
                ) from None
        has_file = file is not None and not isinstance(file, str)
        if has_file == bool(clip_id):
            raise InvalidFieldError("file", None, "give exactly one of file (an upload) or clip_id")
        payload: dict[str, Any] = {
            "effects": names,
            "seed": seed,
            "clip_id": None,
            "source": None,
            "labels": None,
        }
        if neural.any:
            payload["neural"] = neural.model_dump(mode="json")
        if clip_id:
            rec = await _record(request, clip_id)
            payload["clip_id"] = rec.token
        else:
            assert file is not None
            lab_file = labels if labels is not None and not isinstance(labels, str) else None
            payload["source"], payload["labels"] = await store_upload(
                s.uploads,
                file,
                lab_file,
                max_video_bytes=s.args.max_upload_bytes,
                max_labels_bytes=s.args.max_body_bytes * 16,
            )
        job, created = await _create_job(s, "augment", payload, idempotency_key)
        return _accepted(job, created, 1)

    # -------------------------------------------------------------------------- builds
    @app.post(
        "/v1/library/builds",
        status_code=202,
        response_model=S.JobAccepted,
        tags=["library"],
        dependencies=write,
    )
    async def start_build(
        request: Request, body: S.LibraryBuildRequest, idempotency_key: IdemKey = None
    ) -> JSONResponse:
        from generator.build import parse_class_list

        s = svc(request)
        _check_backend(s.args, body.backend)
        _check_size(s.args, body.width_px, body.height_px, body.seconds)
        if isinstance(body.classes, str):
            classes = parse_class_list(body.classes)
        else:
            classes = parse_class_list(",".join(str(c) for c in body.classes) or "x")
        n = len(classes) * body.variants
        if n > s.args.max_build_items:
            raise InvalidFieldError(
                "variants",
                body.variants,
                f"{n} items exceed this server's limit of {s.args.max_build_items} per build",
            )
        if body.width_px % 2 or body.height_px % 2:
            raise InvalidFieldError("width_px", (body.width_px, body.height_px), "must be even")
        payload = {
            "classes": classes,
            "variants": body.variants,
            "options": {
                "backend": body.backend,
                "width_px": body.width_px,
                "height_px": body.height_px,
                "fps": body.fps,
                "seconds": body.seconds,
            },
        }
        job, created = await _create_job(s, "build", payload, idempotency_key)
        return _accepted(job, created, n)

    @app.get("/v1/library/builds/{build_id}", response_model=S.JobOut, tags=["library"])
    async def get_build(request: Request, build_id: JobId) -> S.JobOut:
        check_id(build_id, "build_id", "build")
        job = await svc(request).db.get_job(build_id)
        if job is None or not job.kind.startswith("build"):
            raise NotFoundError(f"build_id={build_id!r}: no such build", field="build_id")
        return job_out(job)

    # ------------------------------------------------------------------------- catalog
    @app.get("/v1/catalog/stats", tags=["catalog"])
    async def catalog_stats(request: Request) -> dict[str, Any]:
        st = await svc(request).db.stats()
        return {
            "n_clips": st.n_clips,
            "n_classes": st.n_classes,
            "n_classes_covered": st.n_classes_covered,
            "clips_per_class": {str(k): v for k, v in st.clips_per_class.items()},
            "clips_per_tag": st.clips_per_tag,
            "clips_per_backend": st.clips_per_backend,
            "classes_without_clips": st.classes_without_clips,
        }

    # ------------------------------------------------------------------------- gallery
    app.mount("/static", StaticFiles(directory=GALLERY_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def gallery() -> FileResponse:
        return FileResponse(GALLERY_DIR / "index.html", media_type="text/html")

    return app
