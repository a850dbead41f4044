"""Run inside the nuScenes devkit venv: load an export and print facts as JSON.

Usage: python devkit_check.py DATAROOT VERSION
"""

import json
import sys

import numpy as np
from nuscenes.nuscenes import NuScenes
from nuscenes.utils.geometry_utils import BoxVisibility, view_points

dataroot, version = sys.argv[1], sys.argv[2]
nusc = NuScenes(version=version, dataroot=dataroot, verbose=False)
out = {"counts": {t: len(getattr(nusc, t)) for t in nusc.table_names}, "scenes": []}
for scene in nusc.scene:
    sample = nusc.get("sample", scene["first_sample_token"])
    n_samples = 1
    while sample["next"]:
        sample = nusc.get("sample", sample["next"])
        n_samples += 1
    first = nusc.get("sample", scene["first_sample_token"])
    sd_token = first["data"]["CAM_FRONT"]
    path, boxes, cam_k = nusc.get_sample_data(sd_token, box_vis_level=BoxVisibility.ANY)
    projected = {}
    for box in boxes:
        inst = nusc.get("sample_annotation", box.token)["instance_token"]
        corners = view_points(box.corners(), np.array(cam_k), normalize=True)[:2]
        projected[inst] = [
            float(corners[0].min()),
            float(corners[1].min()),
            float(corners[0].max()),
            float(corners[1].max()),
        ]
    # a non-key frame: boxes interpolated between samples
    sd = nusc.get("sample_data", sd_token)
    n_sweep_boxes = None
    if sd["next"]:
        nxt = nusc.get("sample_data", sd["next"])
        if not nxt["is_key_frame"]:
            n_sweep_boxes = len(nusc.get_boxes(nxt["token"]))
    log = nusc.get("log", scene["log_token"])
    mask = nusc.get("map", log["map_token"])["mask"]
    pose = nusc.get("ego_pose", sd["ego_pose_token"])
    on_road = bool(
        mask.is_on_mask(np.array([pose["translation"][0]]), np.array([pose["translation"][1]]))[0]
    )
    out["scenes"].append(
        {
            "name": scene["name"],
            "n_samples": n_samples,
            "image": path,
            "n_boxes_first_sample": len(boxes),
            "projected": projected,
            "intrinsic": np.array(cam_k).tolist(),
            "n_sweep_boxes": n_sweep_boxes,
            "ego_on_map": on_road,
            "categories": sorted(
                {nusc.get("sample_annotation", a)["category_name"] for a in first["anns"]}
            ),
        }
    )
print(json.dumps(out))
