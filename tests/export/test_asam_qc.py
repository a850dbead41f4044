"""ASAM's own checkers (asam-qc-openscenarioxml / asam-qc-opendrive) on exported scenes.

The checkers live in a separate venv (they pin numpy<2) made by scripts/install-asam-qc.sh;
one check of an .xosc + .xodr pair takes about a second.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenario_library.export import export_openscenario, run_asam_checks
from scenario_library.export.qc import parse_xqar
from scenario_library.scene import Scene

#: every check of both bundles must really run (skipped ones would hide problems); the only
#: OpenDRIVE rule that is skipped is one defined for OpenDRIVE 1.8 (we write 1.7)
MIN_COMPLETED = {"xoscBundle": 17, "xodrBundle": 22}


def test_asam_checkers_report_no_issue(hand_scene: Scene, asam_tools: Path, tmp_path: Path) -> None:
    xosc, xodr = export_openscenario(hand_scene, tmp_path)
    report = run_asam_checks(xosc, xodr, asam_tools)
    assert report.issues == []
    for bundle, n in MIN_COMPLETED.items():
        assert report.n_completed(bundle) >= n, report.statuses[bundle]
    assert "error" not in {s for st in report.statuses.values() for s in st.values()}


def test_asam_checkers_catch_broken_files(build, asam_tools: Path, tmp_path: Path) -> None:
    """The harness really sees issues: an unknown entity reference and an invalid lane type."""
    xosc, xodr = export_openscenario(build.urban_straight(), tmp_path)
    xosc.write_text(xosc.read_text().replace('entityRef="lead"', 'entityRef="ghost"', 1))
    xodr.write_text(xodr.read_text().replace('type="driving"', 'type="nonsense"', 1))
    report = run_asam_checks(xosc, xodr, asam_tools)
    assert any("resolvable_entity_references" in i for i in report.issues), report.issues
    assert any("xodr_xml_valid_schema" in i for i in report.issues), report.issues


def test_parse_xqar_counts_issues_and_checker_errors(tmp_path: Path) -> None:
    xqar = tmp_path / "r.xqar"
    xqar.write_text(
        '<?xml version="1.0"?><CheckerResults version="1">'
        '<CheckerBundle name="xoscBundle" build_date="" description="" version="1" summary="">'
        '<Checker checkerId="a" description="" summary="" status="completed">'
        '<Issue issueId="0" description="bad thing" level="1"><Locations description="">'
        '<XMLLocation xpath="/OpenSCENARIO/Entities"/></Locations></Issue></Checker>'
        '<Checker checkerId="b" description="" summary="boom" status="error"/>'
        '<Checker checkerId="c" description="" summary="" status="skipped"/>'
        "</CheckerBundle></CheckerResults>"
    )
    issues, statuses = parse_xqar(xqar)
    assert issues == [
        "xoscBundle/a [1]: bad thing at /OpenSCENARIO/Entities",
        "xoscBundle/b [error]: checker failed: boom",
    ]
    assert statuses == {"a": "completed", "b": "error", "c": "skipped"}


def test_missing_tools_raise_export_error(tmp_path: Path) -> None:
    from scenario_library.errors import ExportError

    with pytest.raises(ExportError, match="tools_venv"):
        run_asam_checks(tmp_path / "a.xosc", tmp_path / "a.xodr", tmp_path / "no-venv")
