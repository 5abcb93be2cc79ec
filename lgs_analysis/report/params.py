"""Report parameters: ``params/defaults.yaml`` < ``params/<period>.yaml`` < command line.

The defaults file declares every parameter; its values fix the types. Unknown
names and ill-typed values are rejected before anything runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..exceptions import ParameterError

__all__ = ["load_params", "parse_overrides", "declared_parameters", "RESERVED"]

# Set by the runner, never by users: the period and where the notebook writes.
RESERVED = ("period", "output_dir", "demo_note")
# Parameters whose value must be one of a few words.
CHOICES = {"rfm_monetary": ("net", "gross")}


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of parameter: value")
    return data


def _type_name(value: Any) -> str:
    return type(value).__name__


def _check_type(name: str, value: Any, default: Any, origin: str) -> Any:
    expected = type(default)
    if isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(value, bool) and isinstance(default, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise ParameterError(
            f"parameter {name!r} from {origin} must be {expected.__name__} "
            f"(like the default {default!r}), got {_type_name(value)} {value!r}"
        )
    return value


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Parse ``name=value`` strings; values are read as YAML scalars (``20``, ``0.1``, ``true``)."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"parameter override {pair!r} must look like name=value")
        try:
            overrides[name.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ParameterError(f"parameter {name!r}: cannot read value {raw!r}: {exc}") from exc
    return overrides


def declared_parameters(params_dir: Path | None = None) -> list[str]:
    """Names of every parameter declared in ``defaults.yaml``."""
    from ..config import get_settings

    return list(_read_yaml((params_dir or get_settings().params_dir) / "defaults.yaml"))


def load_params(
    period_label: str,
    overrides: dict[str, Any] | None = None,
    params_dir: Path | None = None,
) -> dict[str, Any]:
    """Merge defaults, the period's file and ``overrides``, checking names and types.

    Returns
    -------
    dict
        Every parameter declared in ``defaults.yaml`` with its effective value.

    Raises
    ------
    ParameterError
        On an unknown name, a wrong type, or a reserved name (``period``, ``output_dir``).
    """
    from ..config import get_settings

    params_dir = params_dir or get_settings().params_dir
    defaults_path = params_dir / "defaults.yaml"
    defaults = _read_yaml(defaults_path)
    merged = dict(defaults)
    layers: list[tuple[str, dict[str, Any]]] = []
    period_file = params_dir / f"{period_label}.yaml"
    if period_file.exists():
        layers.append((str(period_file), _read_yaml(period_file)))
    if overrides:
        layers.append(("the command line", overrides))
    for origin, layer in layers:
        for name, value in layer.items():
            if name in RESERVED:
                raise ParameterError(f"parameter {name!r} from {origin} is set by the runner")
            if name not in defaults:
                known = ", ".join(sorted(defaults))
                raise ParameterError(
                    f"unknown parameter {name!r} from {origin}; known parameters: {known}"
                )
            merged[name] = _check_type(name, value, defaults[name], origin)
            if name in CHOICES and merged[name] not in CHOICES[name]:
                raise ParameterError(
                    f"parameter {name!r} from {origin} must be one of "
                    f"{', '.join(CHOICES[name])}, got {merged[name]!r}"
                )
    return merged
