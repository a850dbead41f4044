"""Export a concrete :class:`~scenario_library.scene.Scene` as ASAM OpenSCENARIO 1.3 + OpenDRIVE 1.7.

``export_openscenario(scene, out_dir)`` writes ``<name>.xodr`` (road network, see
:mod:`scenario_library.export.roadnet`) and ``<name>.xosc`` (entities, init, storyboard) with
``scenariogeneration``. ``<name>`` is :func:`export_basename` (class id, class name, seed):
safe and deterministic.

What the storyboard contains
----------------------------
* Entities: cars / trucks / cyclists as ``Vehicle`` (category car / truck / bicycle),
  pedestrians and animals as ``Pedestrian`` (category pedestrian / animal), static obstacles as
  ``MiscObject`` (category obstacle). The bounding box is centred on the entity's reference
  point, which is the agent centre of the scene (its ``s_m`` / lane offset).
* Init: per agent a ``TeleportAction`` to a ``LanePosition`` (OpenDRIVE road, lane, s, offset,
  heading relative to the road) and an ``AbsoluteSpeedAction`` (step) to its initial speed;
  agents with ``turn_to`` and no TURN manoeuvre get an ``AssignRouteAction`` through the
  junction; an ``EnvironmentAction`` sets time of day, sun, fog, precipitation and the road
  friction (``frictionScaleFactor = friction_mu / 0.9``, dry asphalt = 1).
* Story: one act; per agent one maneuver group. The event of ``scene.manoeuvres[i]`` is named
  ``<agent_id>_<kind>_<i>``. Agents whose ``desired_speed_mps`` differs from
  the initial speed accelerate to it from t=0 (linear, 2 m/s²). Each scene manoeuvre becomes
  an event whose start trigger is the scene trigger (TIME -> ``SimulationTimeCondition``;
  TTC -> ``TimeToCollisionCondition`` of the ego towards the actor (longitudinal, ego frame,
  freespace: the world rollout's definition);
  DISTANCE -> ``RelativeDistanceCondition`` ego-to-actor, euclidean, centre to centre) and
  whose actions are: KEEP -> ``AbsoluteSpeedAction``; BRAKE -> ``AbsoluteSpeedAction`` with a
  linear rate = ``|accel_mps2|``; LANE_CHANGE -> ``AbsoluteLaneChangeAction`` (sinusoidal,
  ``duration_s``) plus the speed change if any; CROSS -> ``FollowTrajectoryAction`` (polyline
  from the start point straight across road 0 to beyond the far side, the rollout's path) plus
  ``AbsoluteSpeedAction``;
  TURN -> ``AssignRouteAction`` through the junction into ``target_lane`` / ``turn_to``;
  RUN_RED -> ``AbsoluteSpeedAction`` to the (kept) speed through the red light.
* Traffic lights: a dynamic OpenDRIVE signal per controlled approach and a
  ``TrafficSignalController`` whose phases follow the scene cycle. The cycle is rotated by
  ``offset_s`` so that the first phase is the one active at t=0 (scene convention: the state
  at time t is the cycle at ``t + offset_s``).
* Stop trigger: ``SimulationTimeCondition`` at ``scene.horizon_s``.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from scenariogeneration import xodr, xosc

from scenario_library.errors import ExportError, ScenarioLibraryError
from scenario_library.export.roadnet import WorldPose, build_roadnet
from scenario_library.scene import (
    AgentInit,
    AgentKind,
    Lighting,
    Manoeuvre,
    ManoeuvreKind,
    Scene,
    TrafficLight,
    TriggerKind,
    Weather,
    carriageway_half_widths,
    lane_bounds_t,
    lane_center_t,
)

OSC_MINOR_VERSION = 3
#: header date of every export, so that the same scene always gives byte-identical files
FIXED_DATE = datetime.datetime(2025, 1, 1, 0, 0, 0)
EGO = "ego"
#: how far beyond the junction box a TURN route ends [m]
_ROUTE_EXIT_M = 10.0
#: how far beyond the far sidewalk (or carriageway edge) a crossing ends [m] (as the rollout)
_CROSS_BEYOND_M = 1.5
_DRY_FRICTION = 0.9
_CRUISE_ACCEL_MPS2 = 2.0
#: traffic light state strings per phase (red;yellow;green lamps, esmini convention)
_LAMP_STATES = {"red": "on;off;off", "yellow": "off;on;off", "green": "off;off;on"}


def export_basename(scene: Scene) -> str:
    """Safe, deterministic file stem: ``c<class_id>_<class name slug>_s<seed>``."""
    slug = re.sub(r"[^a-z0-9]+", "_", scene.scenario.class_name.lower()).strip("_")[:80]
    return f"c{scene.scenario.class_id:04d}_{slug or 'scene'}_s{scene.scenario.seed}"


def export_openscenario(scene: Scene, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<name>.xosc`` and ``<name>.xodr`` for ``scene`` into ``out_dir``.

    Returns ``(xosc_path, xodr_path)``. Raises ExportError (naming the field and value) if the
    scene cannot be expressed or the files cannot be written.
    """
    try:
        scene.validate_scene()
    except ScenarioLibraryError as exc:
        raise ExportError(f"invalid scene: {exc}") from exc
    out_dir = Path(out_dir)
    name = export_basename(scene)
    xosc_path = out_dir / f"{name}.xosc"
    xodr_path = out_dir / f"{name}.xodr"
    try:
        builder = _Builder(scene, name)
        scenario = builder.scenario(xodr_path.name)
        out_dir.mkdir(parents=True, exist_ok=True)
        odr_root = builder.net.odr.get_element()
        header = odr_root.find("header")
        if header is not None:  # scenariogeneration stamps now(): keep exports reproducible
            header.set("date", FIXED_DATE.isoformat())
        _write_xml(odr_root, xodr_path)
        _write_xml(scenario.get_element(), xosc_path)
    except ExportError:
        raise
    except OSError as exc:
        raise ExportError(f"out_dir={str(out_dir)!r}: cannot write export: {exc}") from exc
    except Exception as exc:  # scenariogeneration raises plain exceptions of its own
        raise ExportError(
            f"class_id={scene.scenario.class_id!r} seed={scene.scenario.seed!r}: "
            f"OpenSCENARIO export failed: {type(exc).__name__}: {exc}"
        ) from exc
    return xosc_path, xodr_path


def _wrap(angle: float) -> float:
    return math.remainder(angle, 2 * math.pi)


def _travel_sign(lane_id: int) -> int:
    """+1 if the lane travels in +s, -1 if in -s."""
    return 1 if lane_id < 0 else -1


class _Builder:
    """Builds the xosc objects of one scene (one instance per export)."""

    def __init__(self, scene: Scene, name: str) -> None:
        self.scene = scene
        self.name = name
        self.agents = {a.agent_id: a for a in scene.agents}
        self.ego = scene.agents[0]
        self.turns = self._turn_connections()
        self.net = build_roadnet(scene.road, name, extra_turns=self.turns)
        self.signals: dict[str, list[str]] = {}  # light_id -> xodr signal ids
        self._add_signals()

    # ------------------------------------------------------------------ positions
    def lane_position(self, agent: AgentInit) -> xosc.LanePosition | xosc.WorldPosition:
        road_id, lane_id = agent.start.road_id, agent.start.lane_id
        if self.net.in_junction_box(road_id, agent.s_m):
            pose = self.net.pose(road_id, agent.s_m, self._agent_t(agent))
            h = pose.h_rad + (0.0 if lane_id < 0 else math.pi) + agent.heading_rad
            return xosc.WorldPosition(pose.x_m, pose.y_m, 0.0, _wrap(h), 0.0, 0.0)
        pos = self.net.lane_pos(road_id, lane_id, agent.s_m)
        # scene offset is + left of travel; OpenSCENARIO lane offset is + along the road's t
        offset = agent.offset_m * _travel_sign(lane_id)
        heading = _wrap(agent.heading_rad + (0.0 if lane_id < 0 else math.pi))
        return xosc.LanePosition(
            pos.s_m,
            offset,
            pos.lane_id,
            pos.road_id,
            xosc.Orientation(h=heading, reference=xosc.ReferenceContext.relative),
        )

    def _world(self, pose: WorldPose, h: float | None = None) -> xosc.WorldPosition:
        return xosc.WorldPosition(
            pose.x_m, pose.y_m, 0.0, _wrap(pose.h_rad if h is None else h), 0.0, 0.0
        )

    def _agent_t(self, agent: AgentInit) -> float:
        t = lane_center_t(self.scene.road, agent.start.road_id, agent.start.lane_id)
        return t + agent.offset_m * _travel_sign(agent.start.lane_id)

    # ------------------------------------------------------------------ entities
    def entities(self) -> xosc.Entities:
        ents = xosc.Entities()
        for a in self.scene.agents:
            ents.add_scenario_object(a.agent_id, self._entity(a))
        return ents

    def _entity(self, a: AgentInit) -> xosc.Vehicle | xosc.Pedestrian | xosc.MiscObject:
        bb = xosc.BoundingBox(a.width_m, a.length_m, a.height_m, 0.0, 0.0, a.height_m / 2)
        if a.kind in (AgentKind.CAR, AgentKind.TRUCK, AgentKind.CYCLIST):
            category, wheel, max_speed, mass = {
                AgentKind.CAR: (xosc.VehicleCategory.car, 0.7, 70.0, 1500.0),
                AgentKind.TRUCK: (xosc.VehicleCategory.truck, 1.0, 40.0, 12000.0),
                AgentKind.CYCLIST: (xosc.VehicleCategory.bicycle, 0.7, 15.0, 90.0),
            }[a.kind]
            track = 0.0 if a.kind is AgentKind.CYCLIST else round(a.width_m * 0.85, 3)
            axle_x = round(a.length_m * 0.3, 3)
            front = xosc.Axle(0.5, wheel, track, axle_x, wheel / 2)
            rear = xosc.Axle(0.0, wheel, track, -axle_x, wheel / 2)
            max_speed = max(max_speed, a.speed_mps, a.desired_speed_mps or 0.0)
            return xosc.Vehicle(
                f"{a.kind.value}_{a.agent_id}", category, bb, front, rear, max_speed, 6.0, 10.0,
                mass=mass,
            )  # fmt: skip
        if a.kind in (AgentKind.PEDESTRIAN, AgentKind.ANIMAL):
            cat = (
                xosc.PedestrianCategory.pedestrian
                if a.kind is AgentKind.PEDESTRIAN
                else xosc.PedestrianCategory.animal
            )
            if a.kind is AgentKind.PEDESTRIAN:
                mass = 80.0 if a.height_m >= 1.5 else 30.0
            else:  # animal: roughly 150 kg per cubic metre of bounding box
                mass = max(5.0, 150.0 * a.length_m * a.width_m * a.height_m)
            return xosc.Pedestrian(f"{a.kind.value}_{a.agent_id}", round(mass, 1), cat, bb)
        if a.kind is AgentKind.OBSTACLE:
            return xosc.MiscObject(
                f"obstacle_{a.agent_id}", 100.0, xosc.MiscObjectCategory.obstacle, bb
            )
        raise ExportError(f"agents.kind={a.kind!r}: no OpenSCENARIO entity for this kind")

    # ------------------------------------------------------------------ init
    def init(self) -> xosc.Init:
        init = xosc.Init()
        init.add_global_action(self._environment())
        turned = {m.agent_id for m in self.scene.manoeuvres if m.kind is ManoeuvreKind.TURN}
        for a in self.scene.agents:
            init.add_init_action(a.agent_id, xosc.TeleportAction(self.lane_position(a)))
            init.add_init_action(
                a.agent_id,
                xosc.AbsoluteSpeedAction(a.speed_mps, _step()),
            )
            if a.turn_to is not None and a.agent_id not in turned:
                init.add_init_action(a.agent_id, self._route_action(a, a.turn_to.road_id,
                                                                    a.turn_to.lane_id))  # fmt: skip
        return init

    def _environment(self) -> xosc.EnvironmentAction:
        sc = self.scene.scenario
        hour, minute, sun_elev, intensity = {
            Lighting.DAY: (12, 0, 1.0, 100000.0),
            Lighting.DUSK: (21, 30, 0.0, 400.0),
            Lighting.NIGHT: (23, 30, -0.5, 0.0),
            Lighting.LOW_SUN: (6, 0, 0.09, 20000.0),
        }[sc.lighting]
        sun_azimuth = 0.0 if sc.lighting is Lighting.LOW_SUN else math.pi  # glare: sun ahead
        fog = xosc.Fog(60 if sc.weather is Weather.FOG else 100000)
        precipitation = {
            Weather.RAIN: xosc.Precipitation(xosc.PrecipitationType.rain, 8.0),
            Weather.SNOW: xosc.Precipitation(xosc.PrecipitationType.snow, 4.0),
        }.get(sc.weather, xosc.Precipitation(xosc.PrecipitationType.dry, 0.0))
        cloud = (
            xosc.FractionalCloudCover.zeroOktas
            if sc.weather is Weather.CLEAR
            else xosc.FractionalCloudCover.eightOktas
        )
        weather = xosc.Weather(
            cloudstate=cloud,
            sun=xosc.Sun(intensity, sun_azimuth, sun_elev),
            fog=fog,
            precipitation=precipitation,
        )
        env = xosc.Environment(
            f"env_{sc.weather.value}_{sc.lighting.value}",
            xosc.TimeOfDay(False, 2025, 6, 21, hour, minute, 0),
            weather,
            xosc.RoadCondition(round(self.scene.friction_mu / _DRY_FRICTION, 4)),
        )
        return xosc.EnvironmentAction(env)

    # ------------------------------------------------------------------ storyboard
    def storyboard(self) -> xosc.StoryBoard:
        stop = xosc.ValueTrigger(
            "horizon_reached",
            0,
            xosc.ConditionEdge.rising,
            xosc.SimulationTimeCondition(self.scene.horizon_s, xosc.Rule.greaterThan),
            "stop",
        )
        sb = xosc.StoryBoard(self.init(), stop)
        story = xosc.Story("wmgen_story")
        act = xosc.Act(
            "corner_case",
            xosc.ValueTrigger(
                "act_start",
                0,
                xosc.ConditionEdge.none,
                xosc.SimulationTimeCondition(0, xosc.Rule.greaterOrEqual),
            ),
        )
        n_groups = 0
        for a in self.scene.agents:
            events = self._cruise_events(a)
            for i, m in enumerate(self.scene.manoeuvres):  # i: index in scene.manoeuvres
                if m.agent_id == a.agent_id:
                    events.append(self._manoeuvre_event(m, i))
            if not events:
                continue
            man = xosc.Maneuver(f"{a.agent_id}_maneuver")
            for ev in events:
                man.add_event(ev)
            group = xosc.ManeuverGroup(f"{a.agent_id}_group")
            group.add_actor(a.agent_id)
            group.add_maneuver(man)
            act.add_maneuver_group(group)
            n_groups += 1
        if n_groups == 0:  # OpenSCENARIO needs at least one maneuver group: the ego keeps speed
            man = xosc.Maneuver("ego_maneuver")
            ev = xosc.Event("ego_keep_speed", xosc.Priority.parallel)
            ev.add_action("ego_keep_speed", xosc.AbsoluteSpeedAction(self.ego.speed_mps, _step()))
            ev.add_trigger(_time_trigger("ego_keep_speed_start", 0.0))
            man.add_event(ev)
            group = xosc.ManeuverGroup("ego_group")
            group.add_actor(self.ego.agent_id)
            group.add_maneuver(man)
            act.add_maneuver_group(group)
        story.add_act(act)
        sb.add_story(story)
        return sb

    def _cruise_events(self, a: AgentInit) -> list[xosc.Event]:
        v = a.desired_speed_mps
        if v is None or abs(v - a.speed_mps) < 1e-6 or a.kind is AgentKind.OBSTACLE:
            return []
        ev = xosc.Event(f"{a.agent_id}_cruise", xosc.Priority.parallel)
        ev.add_action(
            f"{a.agent_id}_cruise_speed",
            xosc.AbsoluteSpeedAction(v, _rate(_CRUISE_ACCEL_MPS2)),
        )
        ev.add_trigger(_time_trigger(f"{a.agent_id}_cruise_start", 0.0))
        return [ev]

    def _manoeuvre_event(self, m: Manoeuvre, index: int) -> xosc.Event:
        a = self.agents[m.agent_id]
        tag = f"{m.agent_id}_{m.kind.value}_{index}"
        ev = xosc.Event(tag, xosc.Priority.parallel)
        for action_name, action in self._actions(m, a):
            ev.add_action(f"{tag}_{action_name}", action)
        ev.add_trigger(self._trigger(m, a, tag))
        return ev

    def _speed_action(self, m: Manoeuvre, a: AgentInit, duration_s: float | None = None):
        target = a.speed_mps if m.target_speed_mps is None else m.target_speed_mps
        if m.accel_mps2 is not None and abs(m.accel_mps2) > 0:
            dyn = _rate(abs(m.accel_mps2))
        elif duration_s is not None:
            dyn = xosc.TransitionDynamics(
                xosc.DynamicsShapes.linear, xosc.DynamicsDimension.time, duration_s
            )
        else:
            dyn = _step()
        return xosc.AbsoluteSpeedAction(target, dyn)

    def _actions(self, m: Manoeuvre, a: AgentInit) -> list[tuple[str, object]]:
        k = m.kind
        if k in (ManoeuvreKind.KEEP, ManoeuvreKind.RUN_RED):
            return [("speed", self._speed_action(m, a))]
        if k is ManoeuvreKind.BRAKE:
            accel = abs(m.accel_mps2) if m.accel_mps2 else 4.0  # rollout default
            target = 0.0 if m.target_speed_mps is None else m.target_speed_mps
            return [("brake", xosc.AbsoluteSpeedAction(target, _rate(accel)))]
        if k is ManoeuvreKind.LANE_CHANGE:
            if m.target_lane is None:
                raise ExportError(
                    f"manoeuvres[{m.agent_id}].target_lane=None: lane change needs one"
                )
            if m.target_lane.road_id != a.start.road_id:
                raise ExportError(
                    f"manoeuvres[{m.agent_id}].target_lane.road_id={m.target_lane.road_id!r}: "
                    "a lane change stays on the agent's road"
                )
            duration = m.duration_s or 3.0
            lane = self.net.xodr_lane_id(m.target_lane.road_id, m.target_lane.lane_id)
            actions: list[tuple[str, object]] = [
                (
                    "lane_change",
                    xosc.AbsoluteLaneChangeAction(
                        lane,
                        xosc.TransitionDynamics(
                            xosc.DynamicsShapes.sinusoidal, xosc.DynamicsDimension.time, duration
                        ),
                    ),
                )
            ]
            if m.target_speed_mps is not None:
                actions.append(("speed", self._speed_action(m, a, duration)))
            return actions
        if k is ManoeuvreKind.CROSS:
            return [
                ("cross_path", self._cross_action(m, a)),
                ("cross_speed", self._speed_action(m, a)),
            ]
        if k is ManoeuvreKind.TURN:
            turn_target = m.target_lane or a.turn_to
            if turn_target is None:
                raise ExportError(
                    f"manoeuvres[{m.agent_id}].target_lane=None: a turn needs target_lane or "
                    "the agent's turn_to"
                )
            actions = [("route", self._route_action(a, turn_target.road_id, turn_target.lane_id))]
            if m.target_speed_mps is not None:
                actions.append(("speed", self._speed_action(m, a)))
            return actions
        raise ExportError(f"manoeuvres.kind={k!r}: not supported by the exporter")

    # ------------------------------------------------------------------ crossing
    def cross_endpoints(self, a: AgentInit) -> tuple[WorldPose, WorldPose]:
        """Start and end of a crossing (world frame), as the world rollout walks it.

        A straight path perpendicular to road 0 at the agent's position, towards the side the
        agent faces (if it faces across, |cos| of the angle to the road normal > 0.7), else
        towards the other side, ending ``sidewalk_width_m + 1.5`` m beyond the far edge of the
        carriageway (``carriageway_half_widths``). Agents on road 1 cross road 0 along road 1.
        """
        road = self.scene.road
        t_own = self._agent_t(a)
        if a.start.road_id == 1:
            j = road.junction
            assert j is not None
            s0, t0 = j.s_m - t_own, a.s_m - j.arm_length_m  # road-1 (s, t) in road-0 terms
            along = math.cos(a.heading_rad) * _travel_sign(a.start.lane_id)
        else:
            s0, t0 = a.s_m, t_own
            along = math.sin(a.heading_rad) * _travel_sign(a.start.lane_id)
        if abs(along) > 0.7:
            side = 1 if along > 0 else -1
        else:
            side = 1 if t0 < 0 else -1
        half_r, half_l = carriageway_half_widths(road, 0)
        t_end = side * ((half_l if side > 0 else half_r) + road.sidewalk_width_m + _CROSS_BEYOND_M)
        start = self.net.pose(a.start.road_id, a.s_m, t_own)
        if a.start.road_id == 1:
            end = self.net.pose(1, a.s_m + (t_end - t0), t_own)
        else:
            end = self.net.pose(0, s0, t_end)
        return start, end

    def _cross_action(self, m: Manoeuvre, a: AgentInit) -> xosc.FollowTrajectoryAction:
        start, end = self.cross_endpoints(a)
        h = math.atan2(end.y_m - start.y_m, end.x_m - start.x_m)
        traj = xosc.Trajectory(f"{m.agent_id}_crossing", False)
        traj.add_shape(xosc.Polyline([], [self._world(start, h), self._world(end, h)]))
        return xosc.FollowTrajectoryAction(
            traj, xosc.FollowingMode.position, reference_domain=None, scale=None, offset=None
        )

    # ------------------------------------------------------------------ junction routes
    def _exit_s(self, road_id: int, lane_id: int) -> float:
        """Scene s a little beyond the junction box on the side a lane leaves it."""
        j = self.scene.road.junction
        if j is None:
            raise ExportError(f"road_id={road_id!r}: a turn needs a junction")
        if road_id == 0:
            centre, half, length = j.s_m, self.net.box_a_m, self.scene.road.length_m
        else:
            centre, half, length = j.arm_length_m, self.net.box_b_m, 2 * j.arm_length_m
        if _travel_sign(lane_id) > 0:
            return min(centre + half + _ROUTE_EXIT_M, (centre + half + length) / 2)
        return max(centre - half - _ROUTE_EXIT_M, (centre - half) / 2)

    def _route_action(self, a: AgentInit, road_id: int, lane_id: int) -> xosc.AssignRouteAction:
        start = self.net.lane_pos(a.start.road_id, a.start.lane_id, a.s_m)
        end = self.net.lane_pos(road_id, lane_id, self._exit_s(road_id, lane_id))
        route = xosc.Route(f"{a.agent_id}_route")
        for p in (start, end):
            route.add_waypoint(
                xosc.LanePosition(p.s_m, 0, p.lane_id, p.road_id), xosc.RouteStrategy.shortest
            )
        return xosc.AssignRouteAction(route)

    def _turn_connections(self) -> list[tuple[int, int, int, int]]:
        """Scene (road, lane) -> (road, lane) turns that the junction must connect."""
        turns: list[tuple[int, int, int, int]] = []
        for a in self.scene.agents:
            targets = [a.turn_to] + [
                m.target_lane
                for m in self.scene.manoeuvres
                if m.agent_id == a.agent_id and m.kind is ManoeuvreKind.TURN
            ]
            for t in targets:
                if t is not None:
                    turns.append((a.start.road_id, a.start.lane_id, t.road_id, t.lane_id))
        return turns

    # ------------------------------------------------------------------ triggers
    def _trigger(self, m: Manoeuvre, a: AgentInit, tag: str):
        tr = m.trigger
        name = f"{tag}_start"
        if tr.kind is TriggerKind.TIME:
            return _time_trigger(name, tr.value)
        if a.agent_id == self.ego.agent_id:
            raise ExportError(
                f"manoeuvres[{m.agent_id}].trigger.kind={tr.kind.value!r}: an ego manoeuvre "
                "cannot be triggered relative to the ego"
            )
        if tr.kind is TriggerKind.DISTANCE:
            cond = xosc.RelativeDistanceCondition(
                tr.value,
                xosc.Rule.lessThan,
                xosc.RelativeDistanceType.euclidianDistance,
                a.agent_id,
                alongroute=False,
                freespace=False,
            )
        elif tr.kind is TriggerKind.TTC:
            # as the world rollout measures it: longitudinal gap in the ego frame from the
            # ego's front to the actor's nearest point, over the closing speed
            cond = xosc.TimeToCollisionCondition(
                tr.value,
                xosc.Rule.lessThan,
                alongroute=False,
                freespace=True,
                entity=a.agent_id,
                distance_type=xosc.RelativeDistanceType.longitudinal,
                coordinate_system=xosc.CoordinateSystem.entity,
            )
        else:  # pragma: no cover - exhaustive over TriggerKind
            raise ExportError(f"trigger.kind={tr.kind!r}: not supported")
        return xosc.EntityTrigger(name, 0, xosc.ConditionEdge.none, cond, self.ego.agent_id)

    # ------------------------------------------------------------------ traffic lights
    def _add_signals(self) -> None:
        lights = self.scene.traffic_lights
        if not lights:
            return
        j = self.scene.road.junction
        if j is None:
            raise ExportError("traffic_lights: traffic lights need a junction")
        next_id = 1
        for light in lights:
            ids: list[str] = []
            for approach in (+1, -1):  # +1: lanes in +s enter; -1: lanes in -s enter
                sid = str(next_id)
                if self._place_signal(light, approach, sid):
                    ids.append(sid)
                    next_id += 1
            if not ids:
                raise ExportError(
                    f"traffic_lights[{light.light_id}].road_id={light.road_id!r}: no lane "
                    "enters the junction from this road"
                )
            self.signals[light.light_id] = ids

    def _place_signal(self, light: TrafficLight, approach: int, sid: str) -> bool:
        road = self.scene.road
        j = road.junction
        assert j is not None
        rid = light.road_id
        if rid == 0:
            n_in = road.lanes_right if approach > 0 else road.lanes_left
            centre, half = j.s_m, self.net.box_a_m
        else:
            n_in = j.lanes_per_direction
            centre, half = j.arm_length_m, self.net.box_b_m
        if n_in == 0:
            return False
        # stop line of this approach: the given one mirrored for the opposite direction
        dist = min(max(abs(centre - light.stop_line_s_m), half + 0.5), centre - 0.5)
        s_scene = centre - approach * dist
        lane_id = -1 if approach > 0 else 1
        pos = self.net.lane_pos(rid, lane_id, s_scene)
        outer = lane_bounds_t(road, rid, -approach * n_in)[1]  # roadside of this approach
        sig = xodr.Signal(
            s=pos.s_m,
            t=outer,
            country="DE",
            Type="1000001",
            subtype="-1",
            id=sid,
            name=f"{light.light_id}_{'pos' if approach > 0 else 'neg'}",
            dynamic=xodr.Dynamic.yes,
            orientation=xodr.Orientation.positive if approach > 0 else xodr.Orientation.negative,
            zOffset=2.0,
            height=1.0,
            width=0.4,
        )
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a warning on renaming
            self.net.odr.roads[str(pos.road_id)].add_signal(sig)
        # scenariogeneration renames ids already used anywhere in this process (a global
        # registry); ids only need to be unique within this file, so restore ours.
        sig.id = sid
        return True

    def _controllers(self, rn: xosc.RoadNetwork) -> None:
        for light in self.scene.traffic_lights:
            phases = [(p, d) for p, d in light.cycle if d > 0]
            if not phases:
                raise ExportError(
                    f"traffic_lights[{light.light_id}].cycle={light.cycle!r}: no phase with a "
                    "positive duration"
                )
            phases = _rotate(phases, light.offset_s)
            ctrl = xosc.TrafficSignalController(f"controller_{light.light_id}")
            for i, (phase, dur) in enumerate(phases):
                ph = xosc.Phase(f"{light.light_id}_{i}_{phase.value}", round(dur, 6))
                for sid in self.signals[light.light_id]:
                    ph.add_signal_state(sid, _LAMP_STATES[phase.value])
                ctrl.add_phase(ph)
            rn.add_traffic_signal_controller(ctrl)

    # ------------------------------------------------------------------ assembly
    def scenario(self, xodr_filename: str) -> xosc.Scenario:
        rn = xosc.RoadNetwork(roadfile=xodr_filename)
        self._controllers(rn)
        sc = self.scene.scenario
        return xosc.Scenario(
            self.name,
            "wmgen",
            xosc.ParameterDeclarations(),
            self.entities(),
            self.storyboard(),
            rn,
            xosc.Catalog(),
            osc_minor_version=OSC_MINOR_VERSION,
            creation_date=FIXED_DATE,
            header_properties=_properties(sc.class_id, sc.class_name, sc.seed, sc.tags),
        )


def _write_xml(root: ET.Element, path: Path) -> None:
    tree = ET.ElementTree(root)
    ET.indent(tree, space="    ")
    tmp = path.with_name(path.name + ".tmp")
    tree.write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)


def _properties(class_id: int, class_name: str, seed: int, tags: tuple[str, ...]):
    props = xosc.Properties()
    props.add_property("wmgen.class_id", str(class_id))
    props.add_property("wmgen.class_name", class_name)
    props.add_property("wmgen.seed", str(seed))
    props.add_property("wmgen.tags", ",".join(tags))
    return props


def _rotate(phases: list, offset_s: float) -> list:
    """Rotate a (phase, duration) cycle so that it starts at cycle time ``offset_s``."""
    total = sum(d for _, d in phases)
    t = offset_s % total
    if t <= 1e-9:
        return phases
    acc = 0.0
    for i, (p, d) in enumerate(phases):
        if t < acc + d - 1e-9:
            into = t - acc
            head = [(p, d - into)]
            tail = phases[i + 1 :] + phases[:i] + [(p, into)]
            return head + tail
        acc += d
    return phases


def _step() -> xosc.TransitionDynamics:
    return xosc.TransitionDynamics(xosc.DynamicsShapes.step, xosc.DynamicsDimension.time, 0)


def _rate(rate: float) -> xosc.TransitionDynamics:
    return xosc.TransitionDynamics(xosc.DynamicsShapes.linear, xosc.DynamicsDimension.rate, rate)


def _time_trigger(name: str, t_s: float) -> xosc.ValueTrigger:
    return xosc.ValueTrigger(
        name,
        0,
        xosc.ConditionEdge.none,
        xosc.SimulationTimeCondition(t_s, xosc.Rule.greaterOrEqual),
    )


__all__ = ["export_basename", "export_openscenario"]
