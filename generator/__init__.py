"""How clips are made.

Data flow (one module per stage)::

    scenario_library.Scene
      -> world.geometry.build_road(scene.road)        RoadGeometry (map polylines/polygons)
      -> world.rollout.rollout(scene, ...)            RolloutBatch  [W worlds, A agents, T steps]
      -> render.controls.render_controls(...)         ControlMaps   (hdmap, depth, semantic, instance)
      -> backends.<name>(BackendRequest)              RGB frames    (sketch renderer or diffusion)
      -> io.video / io.openlabel / quality            clip files + labels, gated
      -> pipeline.ClipPipeline                        catalog record (scenario_library.catalog)
"""
