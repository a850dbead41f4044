"""What to generate and what was generated.

Data flow inside this package::

    taxonomy (1024 ScenarioClass) --+
                                    +--> sampling.sample_scene(spec, seed) --> scene.Scene
    spec.ScenarioSpec (user pins) --+                                            |
                                                  export.openscenario <---------+
    catalog (SQLite / PostgreSQL) <-- clip records written by generator.pipeline
"""

__all__: list[str] = []
