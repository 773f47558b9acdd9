# CEN Pix2Pix: U-Net-256 generator (8 down / 8 up, instance norm with affine γ, exchange
# θ = 1e-2 after every encoder IN) and the 70x70 PatchGAN (2.77M parameters), L1 weight
# 100. One PatchGAN per target domain (shared_discriminator=False): per output in
# multitask, per flow in cycle fusion (TPAMI'23 Table 6: 3 flows, "Dis: 8.3" M =
# 3 x 2.77M); see docs/paper_protocol_translation.md for Tables 7-9.
# `tasks` is set by every config, e.g. [dict(inputs=['reshading', 'edge_texture'],
# target='rgb')]; CENPix2Pix fills the generator's num_inputs / num_tasks from it.
model = dict(
    type='CENPix2Pix',
    data_preprocessor=dict(type='DataPreprocessor'),
    generator=dict(
        type='CENUnetGenerator',
        in_channels=3,
        out_channels=3,
        num_down=8,
        base_channels=64,
        norm_cfg=dict(type='IN', affine=True),
        threshold=1e-2,
        exchange_mode='subpart',
        use_dropout=True),
    discriminator=dict(
        type='CENPatchDiscriminator',
        in_channels=6,
        base_channels=64,
        num_conv=3,
        norm_cfg=dict(type='IN', affine=True)),
    tasks=None,
    shared_discriminator=False,
    loss_config=dict(pixel_loss_weight=100.0))
