"""Run the service on this machine: ``serve_forever`` (``wmgen serve``, ``make serve``) and
:class:`LocalService`, an in-process start/stop helper for tests and benchmarks.

Ray starts quietly: no token auth prompt (``RAY_AUTH_MODE=disabled``), no dashboard, CPUs
from the machine, no access logs. The HTTP proxy binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

from serving.errors import ClusterError
from serving.settings import AppArgs

APP_NAME = "wmgen"
#: end-to-end timeout of one HTTP request in the proxy [s]; jobs are asynchronous, so only
#: file downloads and what-if answers take long, and none should take this long
REQUEST_TIMEOUT_S = 60.0


def _quiet_env() -> None:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")


def start_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Connect to ``address`` or start a local Ray (dashboard off); no-op when connected."""
    import ray

    _quiet_env()
    if ray.is_initialized():
        return
    try:
        if address:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            ray.init(
                num_cpus=num_cpus or os.cpu_count() or 1,
                include_dashboard=False,
                dashboard_host="127.0.0.1",
                logging_level=logging.WARNING,
                log_to_driver=False,
                configure_logging=True,
            )
    except Exception as exc:
        raise ClusterError(f"address={address!r}: cannot start or reach Ray ({exc})") from exc


def start_service(
    host: str = "127.0.0.1",
    port: int = 8000,
    args: AppArgs | None = None,
    address: str | None = None,
) -> str:
    """Start Ray (if needed), Serve's proxy on ``host:port`` and the app; returns its URL."""
    from ray import serve
    from ray.serve.config import HTTPOptions
    from ray.serve.schema import LoggingConfig

    from serving.app import build_app

    args = args or AppArgs()
    start_ray(address)
    serve.start(
        http_options=HTTPOptions(host=host, port=port, request_timeout_s=REQUEST_TIMEOUT_S),
        logging_config=LoggingConfig(enable_access_log=False, log_level="WARNING"),
    )
    handle = serve.run(
        build_app(args),
        name=APP_NAME,
        route_prefix="/",
        blocking=False,
        logging_config=LoggingConfig(enable_access_log=False, log_level="WARNING"),
    )
    url = f"http://{host}:{port}"
    _wait_healthy(url, handle)
    return url


def _wait_healthy(url: str, handle: Any, timeout_s: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{url}/healthz", timeout=5.0)
            if r.status_code == 200:
                return
            last = r.status_code
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.25)
    raise ClusterError(f"service at {url} not healthy after {timeout_s:.0f} s (last: {last})")


def stop_service() -> None:
    """Shut the app, Serve and the local Ray down."""
    import ray
    from ray import serve

    try:
        serve.shutdown()
    finally:
        if ray.is_initialized():
            ray.shutdown()


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8000,
    args: AppArgs | None = None,
    address: str | None = None,
) -> None:
    """Run the service until interrupted (Ctrl-C), printing its URL; Ray is always shut down."""
    try:
        url = start_service(host, port, args, address)
        print(f"wmgen serving at {url}  (gallery {url}/, API docs {url}/docs)", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        stop_service()


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalService:
    """Start the service in this process on a random loopback port; ``with`` stops it.

    >>> with LocalService(AppArgs(data_dir=tmp)) as svc:   # doctest: +SKIP
    ...     httpx.get(svc.url + "/healthz")
    """

    def __init__(self, args: AppArgs | None = None, port: int | None = None) -> None:
        self.args = args or AppArgs()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalService:
        self.url = start_service("127.0.0.1", self.port, self.args)
        return self

    def stop(self) -> None:
        stop_service()

    def __enter__(self) -> LocalService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
