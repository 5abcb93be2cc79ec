"""Glue a report's key figures into the executed notebook, in scrapbook's format.

``scrapbook.read_notebook(path).scraps["metrics"]`` reads them back. The scrap is written
here rather than with ``scrapbook.glue``: importing scrapbook in the kernel pulls in
papermill and costs about 0.6 s of every report.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["SCRAP_MIME", "glue"]

SCRAP_MIME = "application/scrapbook.scrap.json+json"
_SCRAP_VERSION = 1


def glue(name: str, data: Any) -> None:
    """Record ``data`` (JSON-ready) under ``name`` as a scrapbook JSON scrap."""
    from IPython.display import display

    payload = {
        "name": name,
        "data": json.loads(json.dumps(data, default=str)),
        "encoder": "json",
        "version": _SCRAP_VERSION,
    }
    metadata = {"scrapbook": {"name": name, "data": True, "display": False}}
    display({SCRAP_MIME: payload}, metadata=metadata, raw=True)
