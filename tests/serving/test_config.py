"""Deployment configs: serve.yaml agrees with build_app; docker-compose.yml validates."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_serve_yaml_matches_build_app() -> None:
    from ray.serve.schema import ServeDeploySchema

    from serving.app import DEPLOYMENT_OPTIONS
    from serving.settings import AppArgs

    raw = yaml.safe_load((ROOT / "serving/config/serve.yaml").read_text())
    schema = ServeDeploySchema.model_validate(raw)  # Ray's own validation of the file
    assert schema.http_options.host == "127.0.0.1"
    (app,) = schema.applications
    assert app.import_path == "serving.app:build_app"
    AppArgs(**app.args)  # the args block is valid AppArgs
    # typed builder: Ray validates the args block into AppArgs (and rejects unknown keys)
    from ray.serve._private.api import call_user_app_builder_with_args_if_necessary

    from serving.app import build_app

    built = call_user_app_builder_with_args_if_necessary(build_app, dict(app.args))
    assert type(built).__name__ == "Application"
    with pytest.raises(Exception, match="no_such_option"):
        call_user_app_builder_with_args_if_necessary(build_app, {"no_such_option": 1})
    deps = {d.name: d for d in app.deployments}
    assert set(deps) == set(DEPLOYMENT_OPTIONS)
    for name, opts in DEPLOYMENT_OPTIONS.items():
        d = deps[name]
        assert d.max_ongoing_requests == opts["max_ongoing_requests"], name
        assert d.max_queued_requests == opts["max_queued_requests"], name
        if "autoscaling_config" in opts:
            cfg = d.autoscaling_config
            assert cfg is not None, name
            got = cfg if isinstance(cfg, dict) else cfg.model_dump()
            for k, v in opts["autoscaling_config"].items():
                assert got[k] == v, (name, k)
    assert (
        "dashboard"
        not in (ROOT / "serving/config/serve.yaml").read_text().split("applications:")[1]
    )


def test_docker_compose_config_validates() -> None:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose (Debian package) is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES", "MINIO"))}
    env.pop("WMGEN_API_TOKEN", None)
    missing = subprocess.run(
        [exe, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert missing.returncode != 0, "required variables must be enforced (${VAR:?})"
    env.update(
        POSTGRES_PASSWORD="pw",
        MINIO_ROOT_USER="minio",
        MINIO_ROOT_PASSWORD="minio-pw",
        WMGEN_API_TOKEN="tok",
    )
    ok = subprocess.run(
        [exe, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    cfg = yaml.safe_load(ok.stdout)
    services = cfg["services"]
    assert {"ray-head", "ray-gpu-worker", "postgres", "minio"} <= set(services)
    assert "healthcheck" in services["postgres"]
    dep = services["ray-head"]["depends_on"]["postgres"]
    assert dep["condition"] == "service_healthy"
    devices = services["ray-gpu-worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    env_head = services["ray-head"]["environment"]
    assert env_head["WMGEN_STORAGE"].startswith("s3://")
    for port in services["ray-head"].get("ports", []):
        text = str(port.get("host_ip", port)) if isinstance(port, dict) else str(port)
        assert "127.0.0.1" in text, "only loopback ports are published"
        published = str(port.get("target", "")) if isinstance(port, dict) else str(port)
        assert "8265" not in published, "the Ray dashboard is never published"
