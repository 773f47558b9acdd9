# NeurIPS'20 §4.1 "Additional ablation studies", item 4: "If we replace the ensemble of
# expert with a concat-fusion block, the result will slightly reduce from 51.1 to 50.8."
# RefineNet (ResNet-101), NYUDv2, single-scale mIoU of the fused prediction.
# Paper: 50.8 (ensemble of experts, full CEN ../refinenet_r101_nyud.py: 51.1).
# Not measured by us.
# Here (cen_mm.core.ConcatFusionEnsemble): the two streams' logits (N, 40, h, w) are
# concatenated along the channels and fused by a 1x1 conv (80 -> 40 channels,
# initialised to the mean of the streams); the stream logits are detached, so the
# ensemble loss (ens.decode.*) trains only this block, as it trains only alpha in CEN.
# The paper does not say whether the block sees detached logits:
#   --cfg-options model.ensemble.detach=False   (the fusion loss also trains the streams)
_base_ = '../../refinenet_r101_nyud.py'
model = dict(ensemble=dict(type='ConcatFusionEnsemble'))
# the fusion block learns at the decoder rate, as alpha does
optim_wrapper = dict(paramwise_cfg=dict(
    custom_keys={'ensemble': dict(lr_mult=_base_.decoder_lr_mult)}))
