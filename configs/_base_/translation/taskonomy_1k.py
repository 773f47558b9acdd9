# Taskonomy, 1000 train / 500 val views (TPAMI'23 §4; list files train_domain.txt and
# val_domain.txt of the official CEN code, lines like
# {domain}/point_407_view_2_domain_{domain}.png) under data/taskonomy/<domain>/.
# The datasets' `domains` are filled from the config's `tasks` (every domain they use).
# The domains of a sample travel as one list, so Resize / FixedCrop / Flip apply the
# same random parameters to all of them.
data_root = 'data/taskonomy'
# Taskonomy's invalid depth (65535) decodes to 254 ("far"), as in the papers' runs (the
# official code under Pillow < 10.3); 'zero' gives 0 (the official code under Pillow >=
# 10.3). See docs/paper_protocol_translation.md.
depth_holes = 'far'

train_pipeline = [
    dict(type='LoadTaskonomyDomains', depth_holes=depth_holes),
    dict(
        type='Resize',
        keys=['img'],
        scale=(286, 286),
        interpolation='bilinear',
        backend='pillow'),
    dict(type='FixedCrop', keys=['img'], crop_size=(256, 256)),
    dict(type='Flip', keys=['img'], flip_ratio=0.5, direction='horizontal'),
    dict(type='PackDomains'),
]
test_pipeline = [
    dict(type='LoadTaskonomyDomains', depth_holes=depth_holes),
    dict(
        type='Resize',
        keys=['img'],
        scale=(256, 256),
        interpolation='bilinear',
        backend='pillow'),
    dict(type='PackDomains'),
]

train_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='TaskonomyDataset',
        data_root=data_root,
        ann_file='train_domain.txt',
        domains=None,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='TaskonomyDataset',
        data_root=data_root,
        ann_file='val_domain.txt',
        domains=None,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
