"""Measuring CEN against its compute floor (the same network run as one stream at
batch M*N): the code behind ``tools/analysis_tools/benchmark_cen.py`` and
``gpu_benchmark.py``, which add only their command lines and tables.

* :mod:`.model_pair` — the CEN model, its floor, inputs, optimizers, train/infer steps,
  the exchanged fraction, conv/matmul FLOPs;
* :mod:`.comparison` — one row per (exchange fraction, phase): time and memory;
* :mod:`.timing` — alternating step timing (wall and process CPU) and ratio statistics;
* :mod:`.processes` — one command run in separate processes, its rounds pooled;
* :mod:`.memory` — peak memory of one step (CPU allocator events / CUDA peak) and the
  static memory of a model and its optimizer;
* :mod:`.profiling` — profiled self time per op, split into conv/matmul and the rest;
* :mod:`.hooks_cost` — per-iteration cost of ``CENSparsityHook``/``ExchangeStatsHook``;
* :mod:`.data_throughput` — images/s of a training dataloader, synthetic NYUDv2 files.

Nothing here is imported by ``import cen_mm``: import the module you need.
"""
