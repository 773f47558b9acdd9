from . import decode_heads, segmentors  # noqa: F401
