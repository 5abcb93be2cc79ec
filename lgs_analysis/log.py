"""The package logger. Only ``cli`` configures handlers."""

from __future__ import annotations

import logging

logger = logging.getLogger("lgs_analysis")
logger.addHandler(logging.NullHandler())
