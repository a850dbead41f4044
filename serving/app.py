"""``build_app(args)``: the wmgen Ray Serve application (import path ``serving.app:build_app``).

The deployment options here are the defaults; ``serving/config/serve.yaml`` restates them with
the reasons and is what ``serve run`` / ``serve deploy`` use on a cluster (a test keeps the
two in step). Every replica asks for a fraction of a CPU so the whole app fits on 2 cores.
"""

# no ``from __future__ import annotations`` here: Ray Serve reads build_app's annotation at
# run time to validate the config's ``args:`` into AppArgs (a typed application builder)
from typing import Any

from ray.serve import Application
from ray.serve.config import AutoscalingConfig, BackpressureConfig

from serving.deployments import ApiIngress, CatalogService, SceneWorker, VideoBackendWorker
from serving.settings import AppArgs

#: deployment name -> options (besides ray_actor_options, which come from the args)
DEPLOYMENT_OPTIONS: dict[str, dict[str, Any]] = {
    "ApiIngress": {
        "max_ongoing_requests": 256,  # async handlers; many short requests per replica
        "max_queued_requests": 512,  # beyond: 503 + Retry-After from the proxy
        "autoscaling_config": {"min_replicas": 1, "max_replicas": 2, "target_ongoing_requests": 64},
    },
    "CatalogService": {
        "num_replicas": 1,  # the database is the bottleneck, not this replica
        "max_ongoing_requests": 128,
        "max_queued_requests": 512,
    },
    "SceneWorker": {
        "max_ongoing_requests": 4,  # each what-if is CPU work in a thread
        "max_queued_requests": 32,
        "autoscaling_config": {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 2},
    },
    "VideoBackendWorker": {
        "max_ongoing_requests": 16,  # >= max_batch_size (8) x max_concurrent_batches (1)
        "max_queued_requests": 64,
    },
}


def _options(name: str, args: AppArgs) -> dict[str, Any]:
    opts = dict(DEPLOYMENT_OPTIONS[name])
    if "autoscaling_config" in opts:
        opts["autoscaling_config"] = AutoscalingConfig(**opts["autoscaling_config"])
    if name == "ApiIngress":
        opts["backpressure_config"] = BackpressureConfig(
            status_code=503, retry_after_s=args.retry_after_s
        )
    return opts


def build_app(args: AppArgs) -> Application:
    """The application graph: ingress -> catalog / scene handles; video workers claim jobs."""
    catalog = CatalogService.options(  # type: ignore[attr-defined]
        ray_actor_options={"num_cpus": args.catalog_cpus}, **_options("CatalogService", args)
    ).bind(args)
    scene = SceneWorker.options(  # type: ignore[attr-defined]
        ray_actor_options={"num_cpus": args.scene_cpus}, **_options("SceneWorker", args)
    ).bind(args)
    video_opts = _options("VideoBackendWorker", args)
    if args.video_max_replicas > args.video_replicas:
        video_opts["autoscaling_config"] = AutoscalingConfig(
            min_replicas=args.video_replicas,
            max_replicas=args.video_max_replicas,
            target_ongoing_requests=8,
        )
    else:
        video_opts["num_replicas"] = args.video_replicas
    actor: dict[str, Any] = {"num_cpus": args.video_cpus}
    if args.video_gpus:
        actor["num_gpus"] = args.video_gpus
    video = VideoBackendWorker.options(  # type: ignore[attr-defined]
        ray_actor_options=actor, **video_opts
    ).bind(args, catalog, scene)  # scene: the CPU stages of neural clips
    return ApiIngress.options(  # type: ignore[attr-defined]
        ray_actor_options={"num_cpus": args.ingress_cpus}, **_options("ApiIngress", args)
    ).bind(args, catalog, scene, video)
