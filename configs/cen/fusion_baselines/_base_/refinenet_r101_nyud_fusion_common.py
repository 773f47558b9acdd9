# NeurIPS'20 Table 2, "commonly-used setting": RGB and depth have separate ResNet-101
# sub-networks (own convs and BNs) up to the fusion point and ONE fused network after
# it (rest of the encoder + the RefineNet decoder); one prediction. No l1, no exchange.
# The leaves set the fusion block and the fusion point
# (model.backbone.fusion / fusion_stages: early = after stage 2, middle = 3, late = 4,
# all = after every stage). Parameter counts: docs/paper_grid.md.
_base_ = '../../refinenet_r101_nyud.py'
model = dict(
    type='FusionEncoderDecoder',
    backbone=dict(type='FusionResNet', exchange=False, shared_convs=False),
    test_cfg=dict(_delete_=True, mode='whole'))
custom_hooks = []  # no l1 penalty, nothing exchanges
