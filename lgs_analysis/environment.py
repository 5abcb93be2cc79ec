"""The Python environment: the lock files it is built from, and the versions a report records.

The lock files beside ``pyproject.toml`` pin every package, with hashes, for each install
set: ``requirements.lock`` (the package, its build backend and the installer, uv),
``requirements-test.lock`` (adds the ``test`` extra) and ``requirements-spark.lock`` (adds
``spark``). ``make lock`` compiles them with ``uv pip compile`` and writes into each one a
digest of the ``pyproject.toml`` entries it was compiled from, so a lock that no longer
matches ``pyproject.toml`` is caught before anything is installed.

This file uses the standard library only: the Makefile runs it with the bare interpreter
before ``.venv`` exists::

    python3 lgs_analysis/environment.py install --venv .venv requirements.lock
    python3 lgs_analysis/environment.py lock [--upgrade]
"""

from __future__ import annotations

import sys

if sys.version_info < (3, 11):  # noqa: UP036 - the Makefile's bare interpreter may be older
    sys.exit(
        f"LGS Reports needs Python 3.11 or newer, not {sys.version.split()[0]}: "
        "run make with PYTHON=python3.11 (or newer)"
    )

import argparse  # noqa: E402 - after the version check: tomllib is 3.11+
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tomllib  # noqa: E402
from importlib import metadata  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

__all__ = [
    "INSTALLER",
    "LOCKS",
    "REPORT_PACKAGES",
    "describe_version_changes",
    "install",
    "lock_inputs",
    "locked_packages",
    "package_versions",
    "stale_locks",
    "write_locks",
]

ROOT = Path(__file__).resolve().parents[1]
# what builds .venv: pinned in requirements.lock like every other package
INSTALLER = "uv>=0.13,<0.14"
# lock file -> the pyproject extras it adds to the base install
LOCKS: dict[str, tuple[str, ...]] = {
    "requirements.lock": (),
    "requirements-test.lock": ("test",),
    "requirements-spark.lock": ("spark",),
}
BASE_LOCK = "requirements.lock"
DIGEST_LINE = "# inputs-sha256: "
# the packages whose versions shape a report's figures, fits and pages (manifest.json)
# (the warehouse server's own version is recorded beside them, by the report)
REPORT_PACKAGES = (
    "pandas",
    "numpy",
    "duckdb",
    "sqlglot",
    "scipy",
    "statsmodels",
    "matplotlib",
    "weasyprint",
    "nbconvert",
    "papermill",
)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


class LockError(Exception):
    """A lock file is missing or was compiled from other pyproject.toml entries."""


# --- versions a report records ------------------------------------------------------


def package_versions() -> dict[str, str]:
    """Python's version and the installed version of each of :data:`REPORT_PACKAGES`.

    A package that is not installed (statsmodels, where no analysis needs it) is left out.
    """
    versions = {"python": ".".join(map(str, sys.version_info[:3]))}
    for name in REPORT_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def describe_version_changes(old: dict[str, str] | None, new: dict[str, str]) -> str:
    """``"pandas 2.2.3 -> 3.1.1, scipy new 1.17.1"``: what differs between two version maps.

    An old map of ``None`` (a version built before versions were recorded) gives
    ``"package versions first recorded"``.
    """
    if old is None:
        return "package versions first recorded"
    changes = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if before is None:
            changes.append(f"{name} {after} added")
        elif after is None:
            changes.append(f"{name} {before} removed")
        else:
            changes.append(f"{name} {before} -> {after}")
    return ", ".join(changes)


# --- lock files ---------------------------------------------------------------------


def _pyproject(root: Path) -> dict[str, Any]:
    with open(root / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


def lock_inputs(lock: str, root: Path = ROOT) -> dict[str, Any]:
    """The ``pyproject.toml`` entries (and the installer) a lock file is compiled from."""
    project = _pyproject(root)
    extras = project["project"].get("optional-dependencies", {})
    return {
        "requires-python": project["project"].get("requires-python", ""),
        "dependencies": sorted(project["project"].get("dependencies", [])),
        "build-system": sorted(project.get("build-system", {}).get("requires", [])),
        "installer": INSTALLER,
        "extras": {name: sorted(extras.get(name, [])) for name in LOCKS[lock]},
    }


def _digest(lock: str, root: Path) -> str:
    text = json.dumps(lock_inputs(lock, root), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def stale_locks(root: Path = ROOT) -> list[str]:
    """Lock files that are missing or were not compiled from today's ``pyproject.toml``."""
    stale = []
    for lock in LOCKS:
        path = root / lock
        if not path.exists():
            stale.append(lock)
            continue
        recorded = [
            line[len(DIGEST_LINE) :].split()[0]
            for line in path.read_text().splitlines()
            if line.startswith(DIGEST_LINE)
        ]
        if recorded != [_digest(lock, root)]:
            stale.append(lock)
    return stale


def locked_packages(lock: Path) -> list[tuple[str, str, str]]:
    """``(normalised name, version, environment marker)`` of every pin in a lock file.

    A package may be pinned twice, for two ranges of Python (``numpy``): each is a row.
    """
    pins = []
    for line in lock.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            marker = line.split(";", 1)[1].rstrip(" \\").strip() if ";" in line else ""
            pins.append((re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(2), marker))
    return pins


def write_locks(uv: str, upgrade: bool = False, root: Path = ROOT) -> list[Path]:
    """Compile every lock file with ``uv pip compile`` and stamp its inputs' digest.

    The base lock is compiled first; the others are constrained by it, so that every
    package they share has one version. Existing pins are kept unless ``upgrade``.
    """
    written = []
    for lock, extras in LOCKS.items():
        inputs = lock_inputs(lock, root)
        extra_lines = "\n".join([*inputs["build-system"], INSTALLER]) + "\n"
        command = [
            uv,
            "pip",
            "compile",
            "pyproject.toml",
            "-",  # the build backend and the installer, read from stdin
            "--universal",
            "--generate-hashes",
            "--quiet",
            "--custom-compile-command",
            "make lock",
            "--output-file",
            lock,
        ]
        for extra in extras:
            command += ["--extra", extra]
        if lock != BASE_LOCK:
            command += ["--constraint", BASE_LOCK]
        if upgrade:
            command.append("--upgrade")
        subprocess.run(command, input=extra_lines, text=True, check=True, cwd=root)
        path = root / lock
        lines = [line for line in path.read_text().splitlines() if not line.startswith(DIGEST_LINE)]
        digest = f"{DIGEST_LINE}{_digest(lock, root)}  (pyproject.toml entries; see make lock)"
        path.write_text("\n".join([*lines[:2], digest, *lines[2:]]) + "\n")
        written.append(path)
    return written


# --- building .venv -----------------------------------------------------------------


def _run(command: list[str], log: Path) -> bool:
    with open(log, "a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        return subprocess.run(command, stdout=out, stderr=subprocess.STDOUT).returncode == 0


def _installer_requirement(lock: Path, target: Path) -> None:
    """Write the installer's own pinned, hashed entry from the base lock to ``target``."""
    lines = lock.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if _PIN.match(line) and line.startswith("uv=="))
    entry = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("    --hash="):
            break
        entry.append(line)
    target.write_text("\n".join(entry).rstrip(" \\") + "\n")


def install(venv: Path, locks: list[str], sync: bool = False, root: Path = ROOT) -> None:
    """Install the pinned packages of ``locks`` into ``venv``, then the project (editable).

    uv (pinned in the base lock, installed by pip with ``--require-hashes``) does the work;
    where uv cannot be installed, pip does it with ``--require-hashes``. ``sync`` makes the
    environment hold exactly the lock (uv removes what the lock does not name).

    Raises
    ------
    LockError
        Before anything is installed, when a lock does not match ``pyproject.toml``.
    RuntimeError
        When an install step fails; ``venv/install.log`` has the details. Nothing
        unpinned is ever installed.
    """
    stale = stale_locks(root)
    if stale:
        raise LockError(
            f"{', '.join(stale)} no longer match pyproject.toml: run `make lock`, "
            "then commit the lock files"
        )
    python = venv / "bin" / "python"
    log = venv / "install.log"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    uv = venv / "bin" / "uv"
    if not uv.exists():
        wanted = venv / "installer.txt"
        _installer_requirement(root / BASE_LOCK, wanted)
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        _run([*pip, "--require-hashes", "--no-deps", "-r", str(wanted)], log)
    files = [str(root / lock) for lock in locks]
    if uv.exists():
        verb = "sync" if sync else "install"
        lock_args = files if sync else [arg for f in files for arg in ("-r", f)]
        uv_pip = [str(uv), "pip"]
        # bytecode now, as pip does: uv leaves it to the first import, and where imports
        # cannot write it (PYTHONDONTWRITEBYTECODE, a read-only venv) every process compiles
        # scipy, pandas and statsmodels from source again (a report's CPU time doubled)
        steps = [
            [*uv_pip, verb, "--require-hashes", "--compile-bytecode", "--python", str(python)]
            + lock_args
        ]
        project = [*uv_pip, "install", "--python", str(python)]
    else:  # no uv wheel for this platform (or no registry): pip, still only hashed pins
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        steps = [[*pip, "--require-hashes", *[arg for f in files for arg in ("-r", f)]]]
        project = pip
    if sync or not (venv / "bin" / "lgs").exists():  # a sync removes the project itself
        # its build backend (setuptools) is pinned in the base lock: no isolated build env
        steps.append([*project, "--no-deps", "--no-build-isolation", "-e", str(root)])
    for step in steps:
        if not _run(step, log):
            raise RuntimeError(
                f"installing {', '.join(locks)} into {venv} failed (log: {log}); "
                "is the package registry reachable (network, proxy, UV_INDEX_URL or "
                "PIP_INDEX_URL)?"
            )


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="environment.py", description=__doc__.split("\n")[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    setup = verbs.add_parser("install", help="install lock files into a venv")
    setup.add_argument("--venv", type=Path, required=True)
    setup.add_argument("--sync", action="store_true")
    setup.add_argument("locks", nargs="+", choices=sorted(LOCKS))
    compile_ = verbs.add_parser("lock", help="compile the lock files from pyproject.toml")
    compile_.add_argument("--venv", type=Path, required=True)
    compile_.add_argument("--upgrade", action="store_true")
    verbs.add_parser("check", help="exit 1 when a lock does not match pyproject.toml")
    args = parser.parse_args(argv)
    try:
        if args.verb == "check":
            stale = stale_locks()
            if stale:
                raise LockError(
                    f"{', '.join(stale)} no longer match pyproject.toml: run `make lock`"
                )
        elif args.verb == "install":
            install(args.venv.resolve(), args.locks, sync=args.sync)
        else:
            venv = args.venv.resolve()
            uv = venv / "bin" / "uv"
            if not uv.exists():  # the lock is what is being made: take the installer's range
                if not (venv / "bin" / "python").exists():
                    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
                pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
                subprocess.run([*pip, "--disable-pip-version-check", INSTALLER], check=True)
            upgrade = args.upgrade or bool(os.environ.get("LGS_UPGRADE"))
            for path in write_locks(str(uv), upgrade=upgrade):
                print(f"wrote {path.name}")
    except (LockError, RuntimeError) as exc:
        print(exc, file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"`{' '.join(map(str, exc.cmd))}` failed with exit code {exc.returncode}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main())
