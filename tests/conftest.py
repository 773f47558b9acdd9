"""Test-session settings: the suite is many tiny CPU workloads, for which one torch
thread is much faster than several (thread start-up dominates, esp. on a busy machine)."""
import torch

torch.set_num_threads(1)
