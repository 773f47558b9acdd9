"""Compiled CPU ops (C++ sources in ``csrc/``, built at first use, each with an eager
fallback): :mod:`.stream_layer_norm`."""
