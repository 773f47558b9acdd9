# NeurIPS'20 §4.1 "Additional ablation studies", item 2 (rebuttal Table A, "CBN,
# Unshared"): CBN modulating depth's BN conditional on RGB, unshared convs. RefineNet
# (ResNet-101), NYUDv2, single-scale. Paper (ensemble mIoU): 48.3 (shared convs: 48.9).
# Not measured by us.
# As ./refinenet_r101_nyud_cbn_convs-shared.py with private encoder convs per modality;
# "unshared" follows Table 1's unshared rows here (separate networks, decoder
# included: shared_heads=False). Ambiguity: the papers do not say whether the decoder
# was shared; with one shared decoder: --cfg-options model.shared_heads=True
_base_ = './refinenet_r101_nyud_cbn_convs-shared.py'
model = dict(backbone=dict(shared_convs=False), shared_heads=False)
