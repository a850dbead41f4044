"""A neural clip's stages run in two deployments: scene + rollout + control maps in the CPU
``SceneWorker`` (``ClipPipeline.prepare``), backend + publish in the ``VideoBackendWorker``
(``ClipPipeline.finish``), the ``PreparedClip`` handed over by Ray. ``sketch`` clips keep
both stages in the video worker. Real Ray Serve on loopback, tiny ``wan-vace`` checkpoint."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from serving_helpers import make_args, submit, wait_job

pytestmark = pytest.mark.integration

os.environ["HF_HUB_OFFLINE"] = "1"  # the tiny checkpoint loads from disk; no hub

#: 160x96 (multiples of Wan's 16 px), 9 frames (Wan's 4k+1)
SMALL = {"width_px": 160, "height_px": 96, "seconds": 1.0, "fps": 9.0}


def test_neural_clip_goes_through_both_deployments(
    instances: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from generator.backends.tiny import make_tiny
    from generator.backends.weights import weights_sha256

    vace = make_tiny("wan-vace", tmp_path_factory.mktemp("models") / "wan-vace")
    args = make_args(
        tmp_path_factory.mktemp("split-svc"), model_dir=str(vace), backends=("sketch", "wan-vace")
    )
    svc = instances.get(args)
    with httpx.Client(base_url=svc.url, timeout=60.0) as client:
        r = submit(client, {"class_id": 17, "seed": 0, "backend": "wan-vace", **SMALL})
        assert r.status_code == 202, r.text
        job = wait_job(client, r.json()["job_id"], timeout_s=300)
        assert job["state"] == "succeeded", job
        clip = client.get(f"/v1/clips/{job['clip_ids'][0]}").json()
        assert clip["backend"] == "wan-vace" and clip["n_frames"] == 9
        prov = clip["provenance"]
        assert prov["weights_sha256"] == weights_sha256(vace)
        # stages 3-5 ran in the scene deployment, not in the video worker that published it
        assert prov["prepared_by"].startswith("SceneWorker:"), prov
        labels = client.get(f"/v1/clips/{clip['clip_id']}/labels").json()
        assert len(labels["openlabel"]["frames"]) == 9

        # the same request again is the same clip, not prepared again
        again = wait_job(
            client,
            submit(client, {"class_id": 17, "seed": 0, "backend": "wan-vace", **SMALL}).json()[
                "job_id"
            ],
        )
        assert again["state"] == "succeeded" and again["clip_ids"] == job["clip_ids"]

        # sketch: every stage in the one CPU worker
        sk = wait_job(client, submit(client, {"class_id": 17, "seed": 0, **SMALL}).json()["job_id"])
        assert sk["state"] == "succeeded", sk
        sketch = client.get(f"/v1/clips/{sk['clip_ids'][0]}").json()
        assert sketch["backend"] == "sketch" and "prepared_by" not in sketch["provenance"]
