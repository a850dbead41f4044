"""Run ASAM's own quality checkers on an exported .xosc / .xodr pair.

The checkers (``asam-qc-openscenarioxml``, ``asam-qc-opendrive``) pin numpy<2, so they live in
their own virtual environment made by ``scripts/install-asam-qc.sh`` (default
``.venv-tools/asam-qc``). Each checker bundle is a CLI (``qc_openscenario``, ``qc_opendrive``)
taking ``-c config.xml``; it always exits 0 and writes its findings to a ``.xqar`` result file
(XML). :func:`run_asam_checks` writes the configs, runs both bundles and reads every ``Issue``
of every checker, plus checkers that ended in status ``error`` (a crashed check is a problem,
not a pass).
"""

from __future__ import annotations

import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from scenario_library.errors import ExportError

#: checker bundle name (as the result file and config call it) -> console script
BUNDLES = {"xoscBundle": "qc_openscenario", "xodrBundle": "qc_opendrive"}


@dataclass(frozen=True)
class QcReport:
    """Findings of the ASAM checkers: one line per issue, and per-bundle checker statuses."""

    issues: list[str]
    #: bundle -> {checker_id: status} ("completed", "skipped", "error")
    statuses: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.issues

    def n_completed(self, bundle: str) -> int:
        return sum(1 for s in self.statuses.get(bundle, {}).values() if s == "completed")


def _config_xml(input_file: Path, bundle: str, result_file: Path) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Config>\n'
        f'  <Param name="InputFile" value={quoteattr(str(input_file))} />\n'
        f"  <CheckerBundle application={quoteattr(bundle)}>\n"
        f'    <Param name="resultFile" value={quoteattr(str(result_file))} />\n'
        "  </CheckerBundle>\n</Config>\n"
    )


def parse_xqar(path: Path) -> tuple[list[str], dict[str, str]]:
    """Issues (as ``bundle/checker [level]: description``) and checker statuses of a result."""
    root = ET.parse(path).getroot()
    issues: list[str] = []
    statuses: dict[str, str] = {}
    for bundle in root.iter("CheckerBundle"):
        bname = bundle.get("name", "?")
        for checker in bundle.iter("Checker"):
            cid = checker.get("checkerId", "?")
            status = checker.get("status", "")
            statuses[cid] = status
            for issue in checker.iter("Issue"):
                where = [
                    loc.get("xpath", "") for loc in issue.iter("XMLLocation") if loc.get("xpath")
                ]
                issues.append(
                    f"{bname}/{cid} [{issue.get('level')}]: {issue.get('description')}"
                    + (f" at {where[0]}" if where else "")
                )
            if status == "error":
                issues.append(f"{bname}/{cid} [error]: checker failed: {checker.get('summary')}")
    return issues, statuses


def tools_available(tools_venv: Path) -> bool:
    return all((Path(tools_venv) / "bin" / exe).is_file() for exe in BUNDLES.values())


def run_asam_checks(xosc: Path, xodr: Path, tools_venv: Path, timeout_s: float = 300) -> QcReport:
    """Run both ASAM checker bundles (in parallel); return every issue they report.

    The OpenSCENARIO bundle also resolves the road network the .xosc references (LogicFile),
    so the .xodr must sit where the .xosc points to. Raises ExportError if a checker cannot run
    or writes no result.
    """
    tools_venv = Path(tools_venv).resolve()
    if not tools_available(tools_venv):
        raise ExportError(
            f"tools_venv={str(tools_venv)!r}: ASAM checkers not installed "
            "(run scripts/install-asam-qc.sh)"
        )
    issues: list[str] = []
    statuses: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="wmgen-asam-qc-") as tmp:
        work = Path(tmp)
        runs = []
        for bundle, target in (("xoscBundle", Path(xosc)), ("xodrBundle", Path(xodr))):
            exe = BUNDLES[bundle]
            result = work / f"{bundle}.xqar"
            config = work / f"{bundle}.config.xml"
            config.write_text(_config_xml(target.resolve(), bundle, result))
            proc = subprocess.Popen(  # both bundles at once: each is a separate process
                [str(tools_venv / "bin" / exe), "-c", str(config)],
                cwd=work,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            runs.append((exe, result, proc))
        try:
            for exe, result, proc in runs:
                try:
                    _, stderr = proc.communicate(timeout=timeout_s)
                except subprocess.TimeoutExpired as exc:
                    raise ExportError(f"{exe}: no result within timeout_s={timeout_s!r}") from exc
                if not result.is_file():
                    raise ExportError(
                        f"{exe}: no result file written (exit {proc.returncode}): "
                        f"{stderr.strip()[-500:]}"
                    )
                found, status = parse_xqar(result)
                issues.extend(found)
                statuses[result.stem] = status
        finally:
            for _, _, proc in runs:  # only our own two children, never anything else
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    return QcReport(issues=issues, statuses=statuses)
