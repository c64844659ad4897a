"""How hard the property tests try: their full count, or a tenth of it
under `just unit` (BACALAO_QUICK=1), which must finish in seconds.

A test that sets its own `max_examples` writes `examples(n)`; the others
follow the hypothesis profile `tests/conftest.py` loads.
"""

from __future__ import annotations

import os

QUICK = os.environ.get("BACALAO_QUICK") == "1"
QUICK_EXAMPLES = 10


def examples(n: int) -> int:
    """`n`, or a tenth of it (at least QUICK_EXAMPLES) in a quick run."""
    return max(n // 10, QUICK_EXAMPLES) if QUICK else n
