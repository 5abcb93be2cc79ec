"""The lock files: compiled from pyproject.toml, complete, minimal, and what .venv holds.

The Makefile's bootstrap is run for real in a copy of the project: a stale lock and an
unreachable registry each stop it with one line, before anything unpinned is installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from lgs_analysis.environment import (
    INSTALLER,
    LOCKS,
    describe_version_changes,
    locked_packages,
    package_versions,
    stale_locks,
)

PROJECT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((PROJECT / "pyproject.toml").read_text())


def _roots(lock: str) -> list[Requirement]:
    """What a lock must satisfy: pyproject's dependencies, its extras, build backend, uv."""
    project = _pyproject()
    texts = [
        *project["project"]["dependencies"],
        *project["build-system"]["requires"],
        INSTALLER,
    ]
    for extra in LOCKS[lock]:
        texts += project["project"]["optional-dependencies"][extra]
    return [Requirement(text) for text in texts]


def _applies(marker: str) -> bool:
    return not marker or Marker(marker).evaluate({**default_environment(), "extra": ""})


def _closure(roots: list[Requirement]) -> set[str]:
    """Every distribution these requirements need here, walked through installed metadata
    (a requirement's extras add the dependencies marked for them)."""
    env = default_environment()
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [req for req in roots if not req.marker or req.marker.evaluate({**env, "extra": ""})]
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        for text in metadata.requires(req.name) or []:
            child = Requirement(text)
            wanted = ["", *req.extras]
            if not child.marker or any(child.marker.evaluate({**env, "extra": e}) for e in wanted):
                child.marker = None
                todo.append(child)
    return {name for name, _ in seen}


@pytest.mark.parametrize("lock", list(LOCKS))
def test_lock_pins_every_dependency_within_its_range(lock):
    pins = [(name, version) for name, version, marker in locked_packages(PROJECT / lock)]
    for req in _roots(lock):
        versions = [v for name, v in pins if name == canonicalize_name(req.name)]
        assert versions, f"{req} is not locked in {lock}"
        for version in versions:
            assert req.specifier.contains(version, prereleases=True), (req, version)


@pytest.mark.parametrize("lock", list(LOCKS))
def test_lock_holds_nothing_that_is_not_needed(lock, request):
    if "spark" in LOCKS[lock]:
        request.getfixturevalue("spark_server")  # pyspark's metadata: skips (fails in CI)
    here = {name for name, _, marker in locked_packages(PROJECT / lock) if _applies(marker)}
    assert here == _closure(_roots(lock))


@pytest.mark.parametrize("lock", list(LOCKS))
def test_lock_gives_every_pin_hashes(lock):
    text = (PROJECT / lock).read_text()
    entries = re.split(r"\n(?=[a-z0-9])", text.split("\n", 3)[3])
    for entry in entries:
        if re.match(r"^[A-Za-z0-9].*==", entry):
            assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_locks_match_pyproject_and_a_changed_dependency_makes_them_stale(tmp_path):
    assert stale_locks(PROJECT) == []
    for name in ["pyproject.toml", *LOCKS]:
        shutil.copy(PROJECT / name, tmp_path / name)
    text = (tmp_path / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(text.replace('"pandas>=2.1"', '"pandas>=2.2"'))
    assert stale_locks(tmp_path) == list(LOCKS)
    (tmp_path / "pyproject.toml").write_text(text.replace("line-length = 100", "line-length = 99"))
    assert stale_locks(tmp_path) == []  # only dependency entries count


@pytest.mark.parametrize("lock", ["requirements-test.lock", "requirements-spark.lock"])
def test_venv_holds_exactly_the_locked_versions(lock, request):
    """.venv was built from the locks (make test installs the test and spark ones)."""
    if "spark" in lock:
        request.getfixturevalue("spark_server")
    for name, version, marker in locked_packages(PROJECT / lock):
        if _applies(marker):
            assert metadata.version(name) == version, name


@pytest.mark.parametrize("module", ["pandas", "scipy.optimize", "statsmodels.api", "matplotlib"])
def test_venv_packages_are_installed_with_their_bytecode(module):
    """Imports never compile a package from source: where bytecode cannot be written at
    import (PYTHONDONTWRITEBYTECODE, as on this machine) every report process compiled
    scipy and pandas again, doubling a report's CPU time."""
    import importlib
    import importlib.util

    source = importlib.import_module(module).__file__
    assert Path(importlib.util.cache_from_source(source)).is_file(), source


def test_package_versions_and_their_changes():
    versions = package_versions()
    for name in ["python", "pandas", "numpy", "duckdb", "sqlglot", "scipy", "matplotlib"]:
        assert versions[name], name
    assert versions["pandas"] == metadata.version("pandas")
    changed = describe_version_changes({**versions, "pandas": "2.2.3"}, versions)
    assert changed == f"pandas 2.2.3 -> {versions['pandas']}"
    assert describe_version_changes(None, versions) == "package versions first recorded"
    without = {name: version for name, version in versions.items() if name != "statsmodels"}
    assert describe_version_changes(without, {**without, "statsmodels": "0.14.4"}) == (
        "statsmodels 0.14.4 added"
    )
    assert describe_version_changes({**without, "statsmodels": "0.14.4"}, without) == (
        "statsmodels 0.14.4 removed"
    )


def _project_copy(root: Path) -> Path:
    for name in ["Makefile", "pyproject.toml", *LOCKS, "README.md"]:
        shutil.copy(PROJECT / name, root / name)
    shutil.copytree(PROJECT / "lgs_analysis", root / "lgs_analysis")
    return root


def _make_venv(root: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", "venv"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def test_make_venv_refuses_a_stale_lock_with_one_line(tmp_path):
    root = _project_copy(tmp_path)
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.replace('"click>=8",', '"click>=8",\n    "rich",'))
    run = _make_venv(root, dict(os.environ))
    assert run.returncode != 0
    said = [line for line in run.stderr.splitlines() if "make lock" in line]
    assert len(said) == 1 and "no longer match pyproject.toml" in said[0], run.stderr
    assert not (root / ".venv").exists()  # nothing was installed, half-pinned or not


def test_make_venv_without_the_registry_stops_with_one_line(tmp_path):
    root = _project_copy(tmp_path)
    dead = "http://127.0.0.1:9/simple"  # nothing listens on the discard port
    env = {
        **os.environ,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": dead,
        "PIP_FIND_LINKS": "",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_RETRIES": "0",
        "UV_INDEX_URL": dead,
        "UV_NO_CACHE": "1",
    }
    run = _make_venv(root, env)
    assert run.returncode != 0
    said = [line for line in run.stderr.splitlines() if "registry" in line]
    assert len(said) == 1 and "install.log" in said[0], run.stderr
    assert not (root / ".venv" / ".installed").exists()
    assert not (root / ".venv" / "bin" / "lgs").exists()
    installed = {
        d.metadata["Name"].lower()
        for d in metadata.distributions(
            path=[str(p) for p in (root / ".venv" / "lib").glob("python*/site-packages")]
        )
    }
    assert installed <= {"pip", "setuptools"}  # only what python -m venv puts there
