# NeurIPS'20 §4.1 "Additional ablation studies", item 1: "only exchanging 30% channels
# at each down-sampling stage of the encoder, instead of every 3x3 convolutional layer
# throughout the encoder". RefineNet (ResNet-101), NYUDv2, single-scale. Paper
# (ensemble mIoU): 48.6 (full CEN: 51.1); no per-stream numbers given. Not measured by
# us.
# Here: the exchange of ./refinenet_r101_nyud_exchange-fixed30.py (first 30% of each
# stream's sub-part, no l1) in one BN per ResNet stage only: the BN after the first
# block's 3x3 conv of layer1..layer4 (`exchange_layers`; in layer2-4 that conv carries
# the stride; layer1 follows the stem's max-pool), the other 3x3-conv BNs are private
# without exchange.
# Ambiguity: whether layer1 (no stride of its own) counts as a "down-sampling stage";
# without it: --cfg-options "model.backbone.exchange_layers=layer[234]\.0\.bn2"
_base_ = '../../refinenet_r101_nyud.py'
model = dict(
    backbone=dict(
        exchange_policy=dict(type='fixed_ratio', ratio=0.3),
        exchange_layers=r'layer\d\.0\.bn2'))
# no l1 penalty; the statistics hook reports the 4 exchanging BNs
custom_hooks = [_base_.custom_hooks[1]]
