"""Fixtures of the serving tests: one real Ray Serve instance on loopback per set of args.

The instance runs in the test process (``serving.local.LocalService``) on a random port with
small fractional CPUs, a temp data folder and a bearer token, so auth is on for every test.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving_helpers import _Instances, make_args


@pytest.fixture(scope="session")
def instances() -> Iterator[_Instances]:
    inst = _Instances()
    yield inst
    inst.stop()


@pytest.fixture(scope="session")
def service_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wmgen-serving")


@pytest.fixture()
def service(instances: _Instances, service_dir: Path) -> Any:
    """The default test instance (SQLite catalog in a temp folder, auth on)."""
    return instances.get(make_args(service_dir))


@pytest.fixture()
def client(service: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=30.0) as c:
        yield c
