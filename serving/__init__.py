"""wmgen serving: the HTTP API on Ray Serve, batch builds on Ray, the gallery.

One deployment per resource profile; job state lives in the catalog database::

                   HTTP (127.0.0.1:8000 by default; proxy on every node)
                          │
                ┌─────────▼──────────┐  FastAPI: /v1, /openapi.json, /metrics, gallery at /
                │ ApiIngress  0.1CPU │  validation (4xx naming the field), bearer auth on
                └──┬──────────────┬──┘  writes, 413/415, 503 + Retry-After, file ranges
                   │              │ await handle (what-if, synchronous)
                   │        ┌─────▼──────────────┐
                   │        │ SceneWorker 0.25CPU│  scene sampling + K plans x M futures
                   │        │ (autoscaled 1..4)  │  closed-loop rollouts (numba), < 1 s
                   │        └────────────────────┘
                   │ own connection pool + thread pool (catalog_access): reads and new
                   │ jobs without a handle hop; CatalogService keeps the same calls by
                   │ handle and folds the workers' generation counters for /metrics
     ┌─────────────▼───────────────────────────┐
     │ catalog DB: clips + jobs (source of     │   SQL (SQLite file / PostgreSQL)
     │ truth: queued/running/... , leases)     │
     └─────────▲───────────────────────────────┘
               │ claim_job / heartbeat / add_job_clips / finish_job (lease-based)
     ┌─────────┴──────────────────────────────────────┐
     │ VideoBackendWorker: 0.5 CPU (sketch) or 1 GPU  │  backends loaded once per replica;
     │ claim loop -> @serve.batch generate(ClipRequest)│  ClipPipeline: scene, rollout,
     │ augment jobs; build jobs -> Ray tasks (SPREAD)  │  control maps, backend, quality
     └────────────────────────┬───────────────────────┘  gate, atomic publish
                              ▼
                 Storage (local folder or s3:// through fsspec)

Why this split: the ingress never blocks on generation (POST answers 202 at once; the job
is a row). Generation runs where the model lives: a video worker claims a job atomically,
heartbeats its lease, appends clip tokens as clips publish, and finishes the row. A worker
that dies stops heartbeating; after ``job_lease_s`` another claims the job, and clips
already published are found by content address, so each clip is published exactly once.
``ClipPipeline`` is the one pipeline object of HTTP jobs, CLI and builds. For a neural
clip the video worker asks ``SceneWorker`` (CPU) for ``ClipPipeline.prepare`` (scene,
rollout, control maps) and runs ``ClipPipeline.finish`` (backend, quality gate, publish) on
the ``PreparedClip`` Ray hands back; a ``sketch`` clip runs every stage in its CPU video
worker, as shipping its control maps would cost more than rendering them (see
``serving.deployments``). ``SceneWorker`` also serves the synchronous what-if. Library builds
fan out as Ray tasks over every node (``serving.ray_build``), from the CLI or a build job.

Modules: ``app`` (build_app), ``deployments``, ``api`` (routes), ``schemas`` (HTTP models),
``jobs`` (claim loop), ``ray_build``, ``local`` (serve_forever, LocalService), ``settings``
(AppArgs), ``resources`` (catalog/storage by URL), ``catalog_access`` (the async catalog
facade of the ingress), ``uploads`` (kept in a Storage), ``neural_augment`` (the 422 check that
a neural effect's model is loaded, ``POST /v1/augment``), ``metrics``, ``errors``.
"""
