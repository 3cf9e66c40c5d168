"""The benchmark suite (`make bench`): queue query against PostGraphile, assignToMe, fan-out.

Run it as modules from the repository root (``python -m bench.run``) so ``bench.*`` imports
resolve; ``bench/fanout.py`` is also a standalone script.
"""
