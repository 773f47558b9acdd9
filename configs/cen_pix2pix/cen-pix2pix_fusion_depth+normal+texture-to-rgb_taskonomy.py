_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 5 (translation to RGB from 1-4 inputs), depth_euclidean + normal +
# edge_texture -> rgb. Paper: FID 60.90 / KID 1.56. Depth + Normal -> RGB (2 inputs) is
# the Table 4 config.
tasks = [
    dict(inputs=['depth_euclidean', 'normal', 'edge_texture'], target='rgb'),
]
domains = ['depth_euclidean', 'normal', 'edge_texture', 'rgb']
model = dict(
    tasks=tasks)

train_dataloader = dict(dataset=dict(domains=domains))
val_dataloader = dict(dataset=dict(domains=domains))
test_dataloader = val_dataloader

# evaluated outputs: the ensemble of every task and, with M >= 2 inputs, every stream
eval_outputs = [(t['target'], key) for t in tasks
                for key in [f"fake_{t['target']}"] + (
                    [f"fake_{t['target']}_from_{d}" for d in t['inputs']]
                    if len(t['inputs']) > 1 else [])]
val_evaluator = dict(
    type='Evaluator',
    metrics=[
        dict(m, fake_key=key, real_key=f'img_{target}', prefix=key[len('fake_'):])
        for target, key in eval_outputs
        for m in (_base_.rgb_metrics if target == 'rgb' else _base_.pixel_metrics)
    ])
test_evaluator = val_evaluator
visualizer = dict(
    img_keys=[f'img_{d}' for d in domains] + [key for _, key in eval_outputs])
