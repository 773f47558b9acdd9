from . import decode_heads, segmentors, utils  # noqa: F401
