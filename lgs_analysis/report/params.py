"""Report parameters: ``params/defaults.yaml`` < ``params/<period>.yaml`` < command line.

The defaults file declares every parameter; its values fix the types. Parameter
files and command-line values are untrusted (wrappers fill them in): they are read as
plain data only (no YAML tags, no dates, no sets, no bytes), every value is checked
deeply (str, int, float, bool, and lists and dicts of them with str keys), and each
parameter must lie within its bounds (:data:`LIMITS`, :data:`CHOICES`). Anything else
is rejected, naming the parameter, before anything runs: papermill writes the values
into the notebook's source, so a value must never be able to become code.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from ..escape import file_name_collisions, segment_file_stem, visible_text
from ..exceptions import ParameterError

__all__ = [
    "load_params",
    "parse_overrides",
    "split_overrides",
    "declared_parameters",
    "check_plain",
    "read_plain_yaml",
    "RESERVED",
    "LIMITS",
    "CHOICES",
]

# Set by the runner, never by users: the period and where the notebook writes.
RESERVED = ("period", "output_dir", "demo_note")
# Parameters whose value must be one of a few words.
CHOICES = {"rfm_monetary": ("net", "gross")}
# name: (least, most) allowed; an open bound is written with "(" as (">", value).
LIMITS: dict[str, tuple[Any, Any]] = {
    "rfm_lookback_months": (1, 120),
    "invoice_percentile_cap": ((">", 0.0), 1.0),
    "top_customers": (1, 1_000),
    "min_support": ((">", 0.0), 1.0),
    "min_confidence": ((">", 0.0), 1.0),
    "min_lift": (0.0, 1_000.0),
    "max_rules": (1, 1_000),
    "max_itemset_size": (2, 6),
    "top_products": (1, 100),
    "cohort_months": (1, 60),
    "clv_horizon_months": (1, 60),
    "clv_monthly_discount_rate": (0.0, 0.5),
    "clv_holdout_months": (1, 12),
    "holdout_share": (0.0, 0.5),
    "response_window_days": (1, 365),
}
_MAX_TEXT = 1_000  # characters in any one string value
_MAX_ITEMS = 100  # entries in any one list or dict
_MAX_DEPTH = 4
_SEGMENT_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,40}$")


class _PlainLoader(yaml.SafeLoader):
    """YAML as plain data: no tags, and dates stay text (``2011-01-01`` is a str)."""


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PLAIN_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}


def _refuse_tag(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None,
        None,
        f"the tag {node.tag!r} is not allowed: parameters are plain data",
        node.start_mark,
    )


for _tag in list(yaml.SafeLoader.yaml_constructors):
    if _tag not in _PLAIN_TAGS:
        _PlainLoader.add_constructor(_tag, _refuse_tag)
_PlainLoader.add_constructor(None, _refuse_tag)  # any unknown tag


def _load_plain(text: str) -> Any:
    """Parse YAML as plain data. Anchors and aliases are refused (shared references could
    expand a few lines into billions of values), so are tags, and over-long numbers."""
    try:
        for node in yaml.compose_all(text, Loader=_PlainLoader):
            if node is not None:
                _check_tags(node)
        if "&" in text or "*" in text:
            for token in yaml.scan(text, Loader=_PlainLoader):
                if isinstance(token, yaml.AliasToken | yaml.AnchorToken):
                    raise yaml.YAMLError("anchors and aliases are not allowed in parameters")
        return yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - _PlainLoader is a SafeLoader
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5,000 digits
        raise yaml.YAMLError(f"value cannot be read as plain data: {exc}") from None


def _check_tags(node: yaml.Node) -> None:
    """Explicit standard tags (``!!set``, ``!!binary``) resolve before construction: refuse."""
    if node.tag not in _PLAIN_TAGS:
        _refuse_tag(None, node)  # type: ignore[arg-type]
    children = node.value if isinstance(node.value, list) else []
    for child in children:
        for item in child if isinstance(child, tuple) else (child,):
            if isinstance(item, yaml.Node):
                _check_tags(item)


def check_plain(name: str, value: Any, origin: str, depth: int = 0) -> None:
    """Raise ParameterError unless ``value`` is plain data (see the module docstring)."""
    where = f"parameter {name!r} from {origin}"
    if depth > _MAX_DEPTH:
        raise ParameterError(f"{where} is nested more than {_MAX_DEPTH} levels deep")
    if isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"{where} must be a finite number, got {value!r}")
        return
    if isinstance(value, str):
        if len(value) > _MAX_TEXT or "\x00" in value:
            raise ParameterError(f"{where} holds a text longer than {_MAX_TEXT} or a NUL byte")
        return
    if isinstance(value, list | dict):
        if len(value) > _MAX_ITEMS:
            raise ParameterError(f"{where} holds more than {_MAX_ITEMS} items")
        if isinstance(value, dict):
            bad = [k for k in value if not isinstance(k, str)]
            if bad:
                raise ParameterError(f"{where} has a non-text key {bad[0]!r}")
            items = [*value.keys(), *value.values()]
        else:
            items = list(value)
        for item in items:
            check_plain(name, item, origin, depth + 1)
        return
    raise ParameterError(
        f"{where} must be plain data (text, number, true/false, list or mapping), "
        f"got {type(value).__name__}"
    )


def _in_limits(value: float, low: Any, high: Any) -> bool:
    above = value > low[1] if isinstance(low, tuple) else value >= low
    return above and value <= high


def _describe_limits(low: Any, high: Any) -> str:
    left = f"({low[1]}" if isinstance(low, tuple) else f"[{low}"
    return f"{left}, {high}]"


def _check_value(name: str, value: Any, origin: str) -> None:
    """Bounds, choices and the segment map's regexes and names."""
    where = f"parameter {name!r} from {origin}"
    if name in LIMITS and not _in_limits(value, *LIMITS[name]):
        raise ParameterError(
            f"{where} must lie in {_describe_limits(*LIMITS[name])}, got {value!r}"
        )
    if name in CHOICES and value not in CHOICES[name]:
        raise ParameterError(f"{where} must be one of {', '.join(CHOICES[name])}, got {value!r}")
    if name == "holdout_salt":
        from ..analyses.holdout import check_salt

        try:
            check_salt(value)
        except ValueError as exc:
            raise ParameterError(f"{where}: {exc}") from None
    if name == "segment_map":
        for pattern, segment in value.items():
            if (
                not isinstance(segment, str)
                or not _SEGMENT_NAME.match(segment)
                or visible_text(segment) != segment  # bidi overrides, zero-width characters
            ):
                raise ParameterError(
                    f"{where}: segment name {segment!r} must be 1 to 40 printable characters "
                    "(no control, bidi or zero-width characters)"
                )
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ParameterError(f"{where}: {pattern!r} is not a valid regex: {exc}") from None
        _check_segment_files(where, value)


# tables/campaign_<stem>.csv names the report writes itself (the campaign readout)
RESERVED_SEGMENT_STEMS = frozenset({"readout", "readout_pooled"})


def _check_segment_files(where: str, segment_map: dict[str, str]) -> None:
    """Refuse two segment names that would write one file (``Can't Lose``, ``Can t Lose``)."""
    from ..analyses.rfm import DEFAULT_SEGMENT_MAP

    names = dict.fromkeys({**DEFAULT_SEGMENT_MAP, **segment_map}.values())
    for first, second, stem in file_name_collisions(names):
        raise ParameterError(
            f"{where}: segments {first!r} and {second!r} would share the file names "
            f"campaign_{stem}.csv (letters and digits are kept, the rest becomes _); "
            "rename one of them"
        )
    for name in names:
        if segment_file_stem(name) in RESERVED_SEGMENT_STEMS:
            stem = segment_file_stem(name)
            raise ParameterError(
                f"{where}: segment {name!r} would write campaign_{stem}.csv, the name of the "
                "campaign readout's own table; rename the segment"
            )


def read_plain_yaml(path: Path) -> dict[str, Any]:
    """A parameter file as a plain mapping (no tags; see the module docstring)."""
    return _read_yaml(path)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = _load_plain(path.read_text(encoding="utf-8")) or {}
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


def split_overrides(text: str) -> list[str]:
    """Split ``'a=1 b="x y"'`` into ``['a=1', 'b=x y']`` with shell quoting rules (no shell runs).

    Raises
    ------
    ParameterError
        When the quotes do not balance.
    """
    import shlex

    try:
        return shlex.split(text or "")
    except ValueError as exc:
        raise ParameterError(f"cannot split the parameter overrides {text!r}: {exc}") from None


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Parse ``name=value`` strings; values are read as YAML scalars (``20``, ``0.1``, ``true``)."""
    overrides: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"parameter override {pair!r} must look like name=value")
        try:
            overrides[name.strip()] = _load_plain(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            shown = raw if len(raw) <= 60 else raw[:57] + "..."
            raise ParameterError(
                f"parameter {name!r}: cannot read value {shown!r}: {exc}"
            ) from None
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
        On an unknown name, a reserved name (``period``, ``output_dir``), a wrong type, a
        value that is not plain data, or one outside its bounds; the message names the
        parameter and where it came from.
    """
    from ..config import get_settings

    params_dir = params_dir or get_settings().params_dir
    defaults_path = params_dir / "defaults.yaml"
    defaults = _read_yaml(defaults_path)
    for name, value in defaults.items():
        check_plain(name, value, str(defaults_path))
        _check_value(name, value, str(defaults_path))
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
            check_plain(name, value, origin)
            merged[name] = _check_type(name, value, defaults[name], origin)
            _check_value(name, merged[name], origin)
    return merged
