"""Translation models (mmagic ``MODELS``)."""
from .cen_pix2pix import CENPix2Pix, TranslationTask, parse_tasks

__all__ = ['CENPix2Pix', 'TranslationTask', 'parse_tasks']
