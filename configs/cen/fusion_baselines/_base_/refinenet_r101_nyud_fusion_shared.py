# NeurIPS'20 Table 2, "same with our setting": shared convs, private BNs, every
# sub-network kept to the end (CENResNet-101 with exchange off); after the fusion
# point the fused map is added to every stream (StageFusionCENResNet, feedback='add');
# RGB / depth / ensemble predictions as CEN
# (--cfg-options model.test_cfg.output=0 / 1 / ensemble). No l1, no exchange.
# The leaves set the fusion block and the fusion point. Parameter counts:
# docs/paper_grid.md.
_base_ = '../../refinenet_r101_nyud.py'
model = dict(
    type='FusionCENEncoderDecoder',
    backbone=dict(type='StageFusionCENResNet', exchange=False, feedback='add'))
custom_hooks = []  # no l1 penalty, nothing exchanges
