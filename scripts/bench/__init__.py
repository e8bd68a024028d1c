"""papertape's benchmarks, each against a baseline in the same run: `python -m scripts.bench.NAME`
from the repository root (results in docs/BENCHMARKS.md)."""
