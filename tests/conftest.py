"""Test-session settings: the suite is many tiny CPU workloads, for which one torch
thread is much faster than several (thread start-up dominates, esp. on a busy machine).

Markers (registered in ``setup.cfg``): ``e2e`` marks end-to-end tests (subprocess
``tools/train.py`` / ``tools/test.py`` / ``tools/dist_train.sh``, demos and converters
run as scripts). ``python -m pytest tests`` runs everything; ``python -m pytest tests -m
"not e2e"`` is the fast unit run.
"""
import torch

torch.set_num_threads(1)
