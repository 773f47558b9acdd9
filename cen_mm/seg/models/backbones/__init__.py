"""Segmentation backbones of the fusion baselines (NeurIPS'20 Table 2)."""
from .fusion_resnet import FusionResNet
from .stage_fusion import FUSION_POINTS
from .stage_fusion_cen_resnet import StageFusionCENResNet

__all__ = ['FusionResNet', 'StageFusionCENResNet', 'FUSION_POINTS']
