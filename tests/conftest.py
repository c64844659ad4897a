"""Settings every test shares: the hypothesis profile (see tests/effort.py)."""

from hypothesis import settings

from tests.effort import QUICK, QUICK_EXAMPLES

settings.register_profile("quick", max_examples=QUICK_EXAMPLES, deadline=None)
if QUICK:
    settings.load_profile("quick")
