"""Fixed colour tables: Cosmos-Transfer HD-map colours, the semantic palette, instance colours.

The semantic palette follows Cityscapes colours where Cityscapes has the class (sky, road,
sidewalk, vegetation, car, truck, person, bicycle/rider, pole, parking); the others are chosen
to be distinct: lane_marking white, crosswalk light orange, animal brown, obstacle orange.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from generator.render.depth import grey_of_depth
from generator.render.groundmap import N_GROUND_CODES, GroundCode
from generator.render.types import SEMANTIC_CLASSES
from scenario_library.scene import AGENT_KIND_CODES, AgentKind

# ---- Cosmos-Transfer AV HD-map colours (nv-tlabs/cosmos-av-sample-toolkits) ----
HD_LANE_LINE = (98, 183, 249)
HD_LANE = (56, 103, 221)
HD_POLE = (66, 40, 144)
HD_ROAD_BOUNDARY = (200, 36, 35)
HD_WAIT_LINE = (185, 63, 34)
HD_CROSSWALK = (206, 131, 63)
HD_ROAD_MARKING = (126, 204, 205)
HD_TRAFFIC_SIGN = (131, 175, 155)
HD_TRAFFIC_LIGHT = (252, 157, 155)
#: polyline width [px] and 3D-box edge width [px]
HD_POLYLINE_WIDTH_PX = 8.0
HD_BOX_EDGE_WIDTH_PX = 5.0
#: box edge colour per agent kind (car red, truck blue, pedestrian green, cyclist yellow,
#: everything else white)
HD_BOX_COLOURS: dict[AgentKind, tuple[int, int, int]] = {
    AgentKind.CAR: (255, 0, 0),
    AgentKind.TRUCK: (0, 0, 255),
    AgentKind.PEDESTRIAN: (0, 255, 0),
    AgentKind.CYCLIST: (255, 255, 0),
    AgentKind.ANIMAL: (255, 255, 255),
    AgentKind.OBSTACLE: (255, 255, 255),
}
#: box brightness reaches 0 at this distance [m]: factor 2 * (122.5 - d) / 255
HD_BOX_FADE_M = 122.5


def box_fade(distance_m: np.ndarray) -> np.ndarray:
    """Cosmos-Transfer depth fade of 3D-box edges: clip(2 * (122.5 - d) / 255, 0, 1)."""
    return np.clip(2.0 * (HD_BOX_FADE_M - np.asarray(distance_m)) / 255.0, 0.0, 1.0)


#: ground code -> HD-map fill colour (lanes and crosswalks are filled polygons)
HD_GROUND_LUT = np.zeros((N_GROUND_CODES, 3), np.uint8)
for _c in (GroundCode.LANE, GroundCode.MARK_WHITE, GroundCode.MARK_YELLOW, GroundCode.STOP_LINE):
    HD_GROUND_LUT[_c] = HD_LANE
HD_GROUND_LUT[GroundCode.CROSS_STRIPE] = HD_CROSSWALK
HD_GROUND_LUT[GroundCode.CROSS_GAP] = HD_CROSSWALK
HD_GROUND_LUT[GroundCode.ROAD_MARKING] = HD_ROAD_MARKING

#: semantic class of each agent kind
KIND_SEMANTIC: dict[AgentKind, int] = {
    AgentKind.CAR: SEMANTIC_CLASSES["car"],
    AgentKind.TRUCK: SEMANTIC_CLASSES["truck"],
    AgentKind.PEDESTRIAN: SEMANTIC_CLASSES["pedestrian"],
    AgentKind.CYCLIST: SEMANTIC_CLASSES["cyclist"],
    AgentKind.ANIMAL: SEMANTIC_CLASSES["animal"],
    AgentKind.OBSTACLE: SEMANTIC_CLASSES["obstacle"],
}
#: kind code (AGENT_KIND_CODES) -> semantic id / box colour, as arrays
KIND_CODE_SEMANTIC = np.zeros(len(AGENT_KIND_CODES), np.uint8)
KIND_CODE_BOX_RGB = np.zeros((len(AGENT_KIND_CODES), 3), np.float64)
for _k, _i in AGENT_KIND_CODES.items():
    KIND_CODE_SEMANTIC[_i] = KIND_SEMANTIC[_k]
    KIND_CODE_BOX_RGB[_i] = HD_BOX_COLOURS[_k]

#: semantic id -> RGB (documented palette of ``semantic_video``)
SEMANTIC_PALETTE: dict[str, tuple[int, int, int]] = {
    "unlabeled": (0, 0, 0),
    "sky": (70, 130, 180),
    "road": (128, 64, 128),
    "lane_marking": (255, 255, 255),
    "sidewalk": (244, 35, 232),
    "crosswalk": (255, 200, 120),
    "vegetation": (107, 142, 35),
    "car": (0, 0, 142),
    "truck": (0, 0, 70),
    "pedestrian": (220, 20, 60),
    "cyclist": (119, 11, 32),
    "animal": (150, 90, 40),
    "obstacle": (250, 120, 0),
    "pole_sign_light": (153, 153, 153),
    "parking": (250, 170, 160),
}
SEMANTIC_LUT = np.zeros((256, 3), np.uint8)
for _name, _id in SEMANTIC_CLASSES.items():
    SEMANTIC_LUT[_id] = SEMANTIC_PALETTE[_name]


def instance_colour(instance_id: int) -> tuple[int, int, int]:
    """Stable, well-spread colour of an instance id (0 -> black). Golden-ratio hue walk."""
    if instance_id == 0:
        return (0, 0, 0)
    hue = (instance_id * 0.6180339887498949) % 1.0
    sat, val = 0.85, 1.0 if instance_id % 2 else 0.8
    h6 = hue * 6.0
    i = int(h6) % 6
    f = h6 - int(h6)
    p, q, t = val * (1 - sat), val * (1 - sat * f), val * (1 - sat * (1 - f))
    rgb = [(val, t, p), (q, val, p), (p, val, t), (p, q, val), (t, p, val), (val, p, q)][i]
    return (round(rgb[0] * 255), round(rgb[1] * 255), round(rgb[2] * 255))


INSTANCE_LUT = np.array([instance_colour(i) for i in range(65536)], np.uint8)


@nb.njit(nogil=True, cache=True)
def apply_lut(t0, t1, ids, lut, out):  # type: ignore[no-untyped-def]
    """[T,H,W] integer ids -> out [T,H,W,3] uint8 through a [K,3] colour table."""
    h, w = ids.shape[1], ids.shape[2]
    for t in range(t0, t1):
        for i in range(h):
            for j in range(w):
                v = ids[t, i, j]
                out[t, i, j, 0] = lut[v, 0]
                out[t, i, j, 1] = lut[v, 1]
                out[t, i, j, 2] = lut[v, 2]


@nb.njit(nogil=True, cache=True)
def depth_grey(t0, t1, depth, out):  # type: ignore[no-untyped-def]
    """[T,H,W] depth [m] -> out [T,H,W,3] grey video (:func:`grey_of_depth`)."""
    h, w = depth.shape[1], depth.shape[2]
    for t in range(t0, t1):
        for i in range(h):
            for j in range(w):
                g = grey_of_depth(depth[t, i, j])
                out[t, i, j, 0] = g
                out[t, i, j, 1] = g
                out[t, i, j, 2] = g
