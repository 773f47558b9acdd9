# Translation fusion baselines of NeurIPS'20 Table 4 / supplementary Table 6: the
# Taskonomy Pix2Pix setup of the CEN configs (dataset, PatchGAN, Adam 2e-4, L1 x100,
# 300k iterations, FID/KID or MAE/RMSE evaluators filled from `tasks`) with the CEN
# generator replaced by FusionUnetGenerator: two private U-Net-256 encoder streams fused
# at encoder conv layer(s) `fusion_layers` ('early' = 1st, 'middle' = 4th, 'late' = 8th,
# 'all' = every layer; or a list such as [1, 4]) by `fusion` (set by each leaf), one
# shared encoder trunk after the last fused layer, one decoder.
# The fused output is judged by the PatchGAN with each input as the condition (as CEN's
# per-stream outputs); its L1 term is counted once per input, not again as "ensemble".
_base_ = ['../../../_base_/translation/cen_pix2pix_taskonomy.py']

model = dict(
    generator=dict(
        _delete_=True,
        type='FusionUnetGenerator',
        in_channels=3,
        out_channels=3,
        num_down=8,
        base_channels=64,
        norm_cfg=dict(type='IN', affine=True),
        # fusion: set by each leaf, dict(type='ConcatFusion' | 'AverageFusion' |
        # 'AlignFusion' | 'SSMAFusion') (cen_mm/models/fusion/)
        fusion_layers='early',
        unfused_skips='none',  # streams meet only in the fusion modules
        use_dropout=True),
    loss_config=dict(ensemble_loss=False))
# no exchanging layer: no sparsity penalty, no exchange statistics
custom_hooks = []
