"""Scope-neutral CEN backbones (mmengine root ``MODELS``)."""
from .cen_resnet import CENBasicBlock, CENBottleneck, CENResNet
from .checkpoint_inflation import (CheckpointInflationError, load_checkpoint_state_dict,
                                   load_single_stream_state_dict, single_stream_key_map)
from .modality_conv import ModalityConv2d
from .multi_stream_backbone import MultiStreamBackbone

__all__ = [
    'CENResNet', 'CENBasicBlock', 'CENBottleneck', 'ModalityConv2d', 'MultiStreamBackbone',
    'CheckpointInflationError', 'load_checkpoint_state_dict',
    'load_single_stream_state_dict', 'single_stream_key_map'
]
