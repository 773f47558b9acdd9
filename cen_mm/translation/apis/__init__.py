"""Translation on your own images with a trained ``CENPix2Pix`` (no mmagic apis)."""
from .translation_inferencer import (CENTranslationInferencer,
                                     TranslationInferencerLoader, write_picture)

__all__ = ['CENTranslationInferencer', 'TranslationInferencerLoader', 'write_picture']
