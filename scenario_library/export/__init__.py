"""Interchange formats: ASAM OpenSCENARIO 1.3 (.xosc) + OpenDRIVE 1.7 (.xodr) export.

``export_openscenario(scene, out_dir) -> (xosc_path, xodr_path)``; ``qc.run_asam_checks`` runs
ASAM's own checkers (installed apart by ``scripts/install-asam-qc.sh``) on the result.
"""

from scenario_library.export.openscenario import export_basename, export_openscenario
from scenario_library.export.qc import QcReport, run_asam_checks

__all__ = ["QcReport", "export_basename", "export_openscenario", "run_asam_checks"]
