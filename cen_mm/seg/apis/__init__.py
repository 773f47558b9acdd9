"""Inference on your own RGB-D (M-modality) data: ``RGBDSegInferencer``, its loader,
and test-time augmentation for stream-predicting models (``StreamSegTTAModel``)."""
from .rgbd_inferencer import RGBDSegInferencer
from .rgbd_inputs import RGBDInferencerLoader
from .stream_tta import StreamSegTTAModel

__all__ = ['RGBDSegInferencer', 'RGBDInferencerLoader', 'StreamSegTTAModel']
