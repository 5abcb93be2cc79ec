"""Demo data: a deterministic generator of retail lines shaped like LGS's real data.

``shop`` is the fixed shop every seed shares (catalogue, countries, calendar),
``generate`` draws the lines, ``load`` puts them in the warehouse and fills an empty
one, so that ``make report`` works on a fresh clone.
"""

from .generate import DEFAULT_ROWS, GENERATOR_VERSION, generate_demo
from .load import check_not_mixed, ensure_data, is_demo, load_demo, remove_demo
from .shop import FIRST_DAY, LAST_DAY

__all__ = [
    "DEFAULT_ROWS",
    "GENERATOR_VERSION",
    "FIRST_DAY",
    "LAST_DAY",
    "generate_demo",
    "load_demo",
    "is_demo",
    "ensure_data",
    "check_not_mixed",
    "remove_demo",
]
