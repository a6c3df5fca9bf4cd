import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from hypothesis import settings

# "ci": the suite's deterministic run; "long": a longer search, by hand (--hypothesis-profile=long).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("long", max_examples=5000, deadline=None)
settings.load_profile("ci")
