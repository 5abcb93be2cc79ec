"""``params/actions.yaml``: the recommended action per segment, in marketing's own words.

The file is untrusted like every parameter file: it is read as plain data, each action
must be text of at most 300 characters, and ``email_list`` a boolean. A segment without
an entry gets a placeholder that says so, never a silent gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..exceptions import ParameterError
from .params import check_plain, read_plain_yaml

__all__ = ["Action", "load_actions", "MISSING_ACTION"]

MISSING_ACTION = "No action set for this segment: add one to params/actions.yaml."
_MAX_ACTION = 300


@dataclass(frozen=True)
class Action:
    """What to do with a segment, and whether its list goes with the monthly email."""

    segment: str
    action: str
    email_list: bool = False


def load_actions(params_dir: Path | None = None) -> dict[str, Action]:
    """Read ``params/actions.yaml`` (a missing file means no action is set).

    Raises
    ------
    ParameterError
        If an entry is not plain text or a boolean where expected, naming it.
    """
    from ..config import get_settings

    path = (params_dir or get_settings().params_dir) / "actions.yaml"
    if not path.exists():
        return {}
    data = read_plain_yaml(path)
    actions = {}
    for segment, entry in data.items():
        check_plain(f"actions[{segment}]", entry, str(path))
        where = f"{path}: segment {segment!r}"
        if not isinstance(entry, dict) or not isinstance(entry.get("action"), str):
            raise ParameterError(f"{where} needs an 'action' text")
        text = " ".join(entry["action"].split())
        if not text or len(text) > _MAX_ACTION:
            raise ParameterError(f"{where}: the action must be 1 to {_MAX_ACTION} characters")
        email_list = entry.get("email_list", False)
        if not isinstance(email_list, bool):
            raise ParameterError(f"{where}: email_list must be true or false")
        unknown = set(entry) - {"action", "email_list"}
        if unknown:
            raise ParameterError(f"{where}: unknown key(s) {sorted(unknown)}")
        actions[str(segment)] = Action(str(segment), text, email_list)
    return actions
