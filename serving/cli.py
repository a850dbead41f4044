"""``wmgen``: the command line of the scenario generator.

Every command imports its heavy dependencies lazily, so ``wmgen classes`` answers at once.
Bad input prints one line on stderr and exits with code 2; other failures exit with 1; never a
traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

app = typer.Typer(
    name="wmgen",
    help="Open world-model scenario generator: corner-case driving scenarios -> labelled clips.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Query the catalog of generated clips.", no_args_is_help=True)
models_app = typer.Typer(help="Model checkpoints for the neural backends.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(models_app, name="models")


class Fmt(StrEnum):
    text = "text"
    json = "json"


FormatOpt = Annotated[Fmt, typer.Option("--format", help="Output format.")]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Variant seed (a parallel world).")]
ClassArg = Annotated[int, typer.Argument(help="Scenario class id, 0..1023.")]


class BadInput(Exception):
    """A user error detected by the CLI itself (exit 2)."""


def _emit(obj: Any, fmt: Fmt, text: str | None = None) -> None:
    if fmt is Fmt.json:
        sys.stdout.write(json.dumps(obj, indent=2, default=_json_default) + "\n")
    else:
        sys.stdout.write(
            (text if text is not None else json.dumps(obj, indent=2, default=_json_default)) + "\n"
        )


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if hasattr(o, "model_dump"):
        return o.model_dump(mode="json")
    return str(o)


def _pipeline() -> Any:
    from generator.pipeline import ClipPipeline

    return ClipPipeline.from_env()


# ------------------------------------------------------------------------------ taxonomy
@app.command()
def classes(
    fmt: FormatOpt = Fmt.text,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Only classes with all tags.")
    ] = None,
) -> None:
    """List the 1024 scenario classes with id, name and tags."""
    from scenario_library.taxonomy import TAXONOMY

    rows = TAXONOMY.match(tag) if tag else TAXONOMY.all()
    data: list[dict[str, Any]] = [
        {"class_id": c.class_id, "name": c.name, "tags": list(c.tags)} for c in rows
    ]
    text = "\n".join(f"{d['class_id']:4d}  {d['name']:<60s} {' '.join(d['tags'])}" for d in data)
    _emit(data, fmt, text)


@app.command()
def sample(class_id: ClassArg, seed: SeedOpt = 0, fmt: FormatOpt = Fmt.text) -> None:
    """The concrete scene of a class and seed: parameters, road, agents, manoeuvres."""
    from scenario_library.sampling import sample_scene

    scene = sample_scene(class_id, seed)
    _emit(scene.model_dump(mode="json"), fmt)


@app.command()
def rollout(
    class_id: ClassArg,
    seed: SeedOpt = 0,
    horizon_s: Annotated[float, typer.Option("--horizon-s", min=0.5, max=60.0)] = 8.0,
    fmt: FormatOpt = Fmt.text,
) -> None:
    """Roll the scene out: per agent id, type, dimensions and per-step states; plus checks."""
    from generator.world.rollout import rollout as run_rollout
    from scenario_library.sampling import sample_scene
    from scenario_library.scene import AgentKind

    scene = sample_scene(class_id, seed, horizon_s=horizon_s)
    r = run_rollout(scene, n_worlds=1, seed=seed)
    kinds = list(AgentKind)
    t = r.t_s
    agents: list[dict[str, Any]] = []
    for a, aid in enumerate(r.agent_ids):
        agents.append(
            {
                "agent_id": aid,
                "type": str(kinds[int(r.kind_codes[a])]),
                "role": str(scene.agents[a].role),
                "length_m": float(r.dims_m[a, 0]),
                "width_m": float(r.dims_m[a, 1]),
                "height_m": float(r.dims_m[a, 2]),
                "steps": [
                    {
                        "t": round(float(t[k]), 3),
                        "x": round(float(r.x_m[0, a, k]), 3),
                        "y": round(float(r.y_m[0, a, k]), 3),
                        "yaw": round(float(r.yaw_rad[0, a, k]), 4),
                        "speed": round(float(r.speed_mps[0, a, k]), 3),
                    }
                    for k in range(r.n_steps)
                ],
            }
        )
    checks = r.checks.summary(0)
    out = {"class_id": class_id, "seed": seed, "dt_s": r.dt_s, "agents": agents, "checks": checks}
    text_lines = [f"class {class_id} seed {seed}: {len(agents)} agents, {r.n_steps} steps"]
    for ag in agents:
        last = ag["steps"][-1]
        text_lines.append(
            f"  {ag['agent_id']:<10s} {ag['type']:<10s} end x={last['x']:8.2f} "
            f"y={last['y']:7.2f} v={last['speed']:5.2f} m/s"
        )
    text_lines.append("checks: " + json.dumps(checks))
    _emit(out, fmt, "\n".join(text_lines))


@app.command()
def whatif(
    class_id: ClassArg,
    seed: SeedOpt = 0,
    plans: Annotated[int, typer.Option("--plans", min=1, max=32)] = 6,
    samples: Annotated[int, typer.Option("--samples", min=1, max=1024)] = 36,
    fmt: FormatOpt = Fmt.text,
) -> None:
    """Closed-loop what-if: K ego plans x M reactive futures, scored; prints the best plan."""
    from generator.world.whatif import whatif as run_whatif
    from scenario_library.sampling import sample_scene

    scene = sample_scene(class_id, seed)
    res = run_whatif(scene, n_plans=plans, n_samples=samples, seed=seed)
    d = res.to_dict()
    _emit(d, fmt)


@app.command("export-openscenario")
def export_openscenario(
    class_id: ClassArg,
    seed: SeedOpt = 0,
    out: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("."),
) -> None:
    """Write the scene as ASAM OpenSCENARIO (.xosc) + OpenDRIVE (.xodr)."""
    from scenario_library.export.openscenario import export_openscenario as run_export
    from scenario_library.sampling import sample_scene

    xosc, xodr = run_export(sample_scene(class_id, seed), out)
    typer.echo(f"{xosc}\n{xodr}")


# ---------------------------------------------------------------------------- generation
@app.command()
def generate(
    class_id: ClassArg,
    seed: SeedOpt = 0,
    backend: Annotated[str, typer.Option("--backend")] = "sketch",
    width: Annotated[int, typer.Option("--width")] = 1280,
    height: Annotated[int, typer.Option("--height")] = 704,
    fps: Annotated[float, typer.Option("--fps")] = 10.0,
    seconds: Annotated[float, typer.Option("--seconds")] = 5.0,
    prompt: Annotated[str, typer.Option("--prompt", help="Extra text for neural backends.")] = "",
    model_dir: Annotated[str | None, typer.Option("--model-dir", envvar="WMGEN_MODEL_DIR")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also copy the files here.")] = None,
    fmt: FormatOpt = Fmt.text,
) -> None:
    """Generate one labelled clip; prints its id and where its files are."""
    from generator.pipeline import ClipRequest, check_request_for_backend
    from scenario_library.spec import ScenarioSpec

    req = ClipRequest(
        spec=ScenarioSpec(class_id=class_id),
        seed=seed,
        backend=backend,
        width_px=width,
        height_px=height,
        fps=fps,
        seconds=seconds,
        prompt=prompt,
        model_dir=model_dir,
    )
    check_request_for_backend(req)
    pipe = _pipeline()
    result = pipe.generate(req)
    files = {f.kind: f.uri for f in result.record.files}
    if out is not None:
        dest = out / result.token
        dest.mkdir(parents=True, exist_ok=True)
        for f in result.record.files:
            src = pipe.storage.local_path(f.uri)
            shutil.copyfile(src, dest / src.name)
        files = {k: str(dest / Path(v).name) for k, v in files.items()}
    data = {"clip_id": result.token, "created": result.created, "files": files}
    text = f"{result.token}\n" + "\n".join(f"  {k:<10s} {v}" for k, v in files.items())
    _emit(data, fmt, text)


@app.command()
def build(
    classes_: Annotated[str, typer.Option("--classes", help="all | 1,2,5-9")] = "all",
    variants: Annotated[int, typer.Option("--variants", min=1)] = 1,
    workers: Annotated[int, typer.Option("--workers", min=1)] = max(1, (os.cpu_count() or 1)),
    backend: Annotated[str, typer.Option("--backend")] = "sketch",
    width: Annotated[int, typer.Option("--width")] = 1280,
    height: Annotated[int, typer.Option("--height")] = 704,
    fps: Annotated[float, typer.Option("--fps")] = 10.0,
    seconds: Annotated[float, typer.Option("--seconds")] = 5.0,
    use_ray: Annotated[bool, typer.Option("--ray", help="Run on a Ray cluster.")] = False,
    address: Annotated[str | None, typer.Option("--address", help="Ray address.")] = None,
    fmt: FormatOpt = Fmt.text,
) -> None:
    """Build a library: classes x variants, in parallel, resumable (rerun to finish)."""
    from tqdm import tqdm

    from generator.build import (
        BuildOptions,
        BuildSummary,
        build_library,
        parse_class_list,
        plan_items,
    )

    ids = parse_class_list(classes_)
    opts = BuildOptions(backend=backend, width_px=width, height_px=height, fps=fps, seconds=seconds)
    opts.request(plan_items(ids[:1], 1)[0])  # validate the options before any work
    bar = tqdm(total=len(ids) * variants, unit="clip", file=sys.stderr, disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    summary: BuildSummary
    if use_ray:
        from serving.ray_build import build_library_on_ray

        summary = build_library_on_ray(
            ids, variants, address=address, options=opts, progress=progress
        )
    else:
        pipe = _pipeline()
        summary = build_library(
            pipe, plan_items(ids, variants), opts, workers=workers, progress=progress
        )
    bar.close()
    d = summary.to_dict()
    _emit(
        d,
        fmt,
        " ".join(f"{k}={v}" for k, v in d.items() if k != "errors")
        + "".join(f"\n  {e}" for e in summary.errors[:20]),
    )
    if d["failed"]:
        raise typer.Exit(1)


def _query(
    class_id: int | None,
    tag: list[str] | None,
    where: list[str] | None,
    backend: str | None,
    limit: int,
    offset: int,
) -> Any:
    from scenario_library.catalog import ClipQuery, parse_where

    return ClipQuery(
        class_id=class_id,
        tags=list(tag or []),
        where=[parse_where(w) for w in (where or [])],
        backend=backend,
        limit=limit,
        offset=offset,
    )


ClassIdOpt = Annotated[int | None, typer.Option("--class-id")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="Repeat: all must match.")]
WhereOpt = Annotated[list[str] | None, typer.Option("--where", help="e.g. 'ego_speed_kmh>60'.")]
BackendOpt = Annotated[str | None, typer.Option("--backend")]


@catalog_app.command("query")
def catalog_query(
    class_id: ClassIdOpt = None,
    tag: TagOpt = None,
    where: WhereOpt = None,
    backend: BackendOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    fmt: FormatOpt = Fmt.text,
) -> None:
    """Find clips by class, tags, parameter ranges and backend."""
    q = _query(class_id, tag, where, backend, limit, offset)
    page = _pipeline().catalog.query_clips(q)
    items = [c.model_dump(mode="json") for c in page.items]
    text = (
        "\n".join(
            f"{c['token']}  class {c['class_id']:4d}  {c['class_name']}  seed {c['seed']}"
            f"  {c['backend']}"
            for c in items
        )
        or "(no clips)"
    )
    _emit({"items": items, "total": page.total, "next_offset": page.next_offset}, fmt, text)


@catalog_app.command("stats")
def catalog_stats(fmt: FormatOpt = Fmt.text) -> None:
    """Coverage: clips per class and per tag, classes with no clip yet."""
    st = _pipeline().catalog.stats()
    d = st.model_dump(mode="json")
    _emit(d, fmt)


@app.command("export-nuscenes")
def export_nuscenes(
    out: Annotated[Path, typer.Option("--out", help="Dataset root to write.")],
    class_id: ClassIdOpt = None,
    tag: TagOpt = None,
    where: WhereOpt = None,
    backend: BackendOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 10000,
    version: Annotated[str, typer.Option("--version")] = "v1.0-wmgen",
) -> None:
    """Export a catalog selection as a nuScenes-format dataset (devkit-loadable)."""
    from generator.io.nuscenes import export_nuscenes as run_export

    pipe = _pipeline()
    page = pipe.catalog.query_clips(_query(class_id, tag, where, backend, limit, 0))
    clips = [c for c in page.items if any(f.kind == "labels" for f in c.files)]
    if not clips:
        raise BadInput("the query selects no clip with labels; nothing to export")
    path = run_export(clips, pipe.storage, out, version=version)
    typer.echo(f"{len(clips)} clips -> {path}")


@app.command()
def augment(
    input_: Annotated[Path, typer.Argument(metavar="INPUT.mp4", help="A real clip.")],
    out: Annotated[Path, typer.Option("--out", help="Copy the augmented clip here.")],
    effects: Annotated[
        str,
        typer.Option("--effects", help="Classical effects, comma list, e.g. rain,fog,night."),
    ] = "",
    labels: Annotated[Path | None, typer.Option("--labels", help="OpenLABEL JSON.")] = None,
    seed: SeedOpt = 0,
    restyle_weather: Annotated[
        str | None, typer.Option(help="Neural: clear/rain/fog/snow.")
    ] = None,
    restyle_lighting: Annotated[str | None, typer.Option(help="Neural: day/dusk/night...")] = None,
    strength: Annotated[float, typer.Option(help="Restyle strength (0, 1]: 0 keeps.")] = 0.5,
    prompt: Annotated[str, typer.Option(help="Extra neural prompt text.")] = "",
    insert_class_id: Annotated[
        int | None, typer.Option(help="Neural: add its hazard actor.")
    ] = None,
    insert_seed: Annotated[int, typer.Option(help="Seed of the inserted actor's scene.")] = 0,
    insert_offset_px: Annotated[str, typer.Option(help="Move the actor by X,Y pixels.")] = "0,0",
    model_dir: Annotated[
        str | None,
        typer.Option(
            "--model-dir",
            envvar="WMGEN_MODEL_DIR",
            help="Neural checkpoint folder (or a folder of them); default $WMGEN_MODEL_DIR.",
        ),
    ] = None,
    fmt: FormatOpt = Fmt.text,
) -> None:
    """Corner-case augmentation of a real clip, keeping its labels: classical effects and/or
    neural restyling (wan-v2v) and hazard-actor insertion (wan-vace)."""
    from generator.augment.neural import NeuralEffects

    if not input_.is_file():
        raise BadInput(f"INPUT={str(input_)!r}: no such file")
    if labels is not None and not labels.is_file():
        raise BadInput(f"--labels={str(labels)!r}: no such file")
    names = [e.strip() for e in effects.split(",") if e.strip()]
    try:
        dx, dy = (int(v) for v in insert_offset_px.split(","))
    except ValueError:
        raise BadInput(f"--insert-offset-px={insert_offset_px!r}: expected X,Y in pixels") from None
    neural = NeuralEffects.model_validate(
        {
            "restyle_weather": restyle_weather,
            "restyle_lighting": restyle_lighting,
            "strength": strength,
            "prompt": prompt,
            "insert_class_id": insert_class_id,
            "insert_seed": insert_seed,
            "insert_offset_px": (dx, dy),
        }
    )
    if not names and not neural.any:
        raise BadInput(
            f"--effects={effects!r}: name at least one effect (or a neural one: "
            "--restyle-weather, --restyle-lighting, --insert-class-id)"
        )
    pipe = _pipeline()
    result = pipe.augment(
        input_,
        names,
        seed=seed,
        labels=labels,
        neural=neural if neural.any else None,
        model_dir=model_dir,
    )
    dest = out / result.token
    dest.mkdir(parents=True, exist_ok=True)
    for f in result.record.files:
        src = pipe.storage.local_path(f.uri)
        shutil.copyfile(src, dest / src.name)
    _emit(
        {"clip_id": result.token, "created": result.created, "dir": str(dest)},
        fmt,
        f"{result.token}\n  {dest}",
    )


@models_app.command("make-tiny")
def make_tiny(
    family: Annotated[str, typer.Argument(help="Model family, e.g. wan-vace.")],
    out: Annotated[Path, typer.Option("--out", help="Checkpoint directory to write.")],
) -> None:
    """Write a tiny, randomly initialised but complete checkpoint (for tests and demos)."""
    from generator.backends.tiny import make_tiny as run_make_tiny

    path = run_make_tiny(family, out)
    typer.echo(str(path))


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
) -> None:
    """Start the HTTP service (Ray Serve) on embedded defaults and block."""
    from serving.local import serve_forever

    serve_forever(host=host, port=port)


# --------------------------------------------------------------------------- entry point
def _one_line(exc: BaseException) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        errs = exc.errors()
        e = errs[0]
        loc = ".".join(str(p) for p in e.get("loc", ())) or "input"
        more = f" (+{len(errs) - 1} more)" if len(errs) > 1 else ""
        return f"{loc}={e.get('input')!r}: {e.get('msg')}{more}"
    return " ".join(str(exc).split()) or type(exc).__name__


def _fail(msg: str, code: int) -> NoReturn:
    sys.stderr.write(f"wmgen: error: {msg}\n")
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    from generator.errors import (
        AugmentError,
        BackendRequestError,
        GeneratorError,
        UnknownBackendError,
    )
    from scenario_library.errors import CatalogNotFoundError, ScenarioLibraryError, SpecError

    try:
        rv = app(args=argv, prog_name="wmgen", standalone_mode=False)
    except typer.Abort:
        _fail("aborted", 130)
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        fmt = getattr(exc, "format_message", None)
        _fail(" ".join((fmt() if fmt else str(exc)).split()), 2)
    except (
        BadInput,
        SpecError,
        UnknownBackendError,
        BackendRequestError,
        AugmentError,
        CatalogNotFoundError,
    ) as exc:
        _fail(_one_line(exc), 2)
    except (ScenarioLibraryError, GeneratorError) as exc:
        _fail(_one_line(exc), 1)
    except ValueError as exc:  # pydantic validation of CLI input and other bad values
        _fail(_one_line(exc), 2)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except OSError as exc:
        _fail(f"{exc.strerror or exc}: {exc.filename or ''}".strip(": "), 1)
    if isinstance(rv, int) and rv:
        raise SystemExit(rv)


if __name__ == "__main__":  # pragma: no cover
    main()
