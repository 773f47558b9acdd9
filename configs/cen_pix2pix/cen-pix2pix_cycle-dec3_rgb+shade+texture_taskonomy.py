_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, CEN-cycle (IN x6, enc x1, dec x3): all flows every step, one shared
# encoder with 6 IN sets, one decoder per flow. Flows: rgb+reshading -> edge_texture;
# rgb+edge_texture -> reshading; reshading+edge_texture -> rgb.
tasks = [
    dict(inputs=['rgb', 'reshading'], target='edge_texture'),
    dict(inputs=['rgb', 'edge_texture'], target='reshading'),
    dict(inputs=['reshading', 'edge_texture'], target='rgb'),
]
domains = ['rgb', 'reshading', 'edge_texture']
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True))

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
