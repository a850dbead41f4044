"""Clip files and labels.

* ``video``: H.264 yuv420p faststart mp4 through PyAV (``write_video``, ``read_video``,
  ``probe_video``) and JPEG thumbnails (``write_thumbnail``).
* ``openlabel``: ASAM OpenLABEL 1.0 labels (``build_openlabel``, ``validate_openlabel`` against
  the schema copy in ``schemas/``, ``write_openlabel``, ``load_openlabel``, ``scenario_of``).
* ``nuscenes``: export of catalogued clips as a nuScenes dataset (``export_nuscenes``).

Modules are imported directly (``from generator.io.video import write_video``).
"""
