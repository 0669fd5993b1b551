"""Test-wide configuration: Hypothesis profiles.

``quick`` (the default on a developer's machine) keeps a run short; ``ci`` (loaded when
the ``CI`` environment variable is set, as ``.ci/run`` does) tries more examples,
derandomised so a CI failure reproduces, with no deadline because CI machines are
shared and slow, and no example database because each CI run starts clean.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("quick", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "quick")
)
