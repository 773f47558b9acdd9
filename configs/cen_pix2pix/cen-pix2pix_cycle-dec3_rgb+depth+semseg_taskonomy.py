_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, CEN-cycle (IN x6, enc x1, dec x3): all flows every step, one shared
# encoder with 6 IN sets, one decoder per flow. Flows: rgb+depth_euclidean ->
# segment_semantic; rgb+segment_semantic -> depth_euclidean;
# depth_euclidean+segment_semantic -> rgb.
# SemSeg = segment_semantic (Taskonomy's semantic labels, as the papers name it); the
# official code's domain table offers only segment_unsup2d/25d, so which folder the
# papers' SemSeg rows used is not recorded (docs/paper_protocol_translation.md).
tasks = [
    dict(inputs=['rgb', 'depth_euclidean'], target='segment_semantic'),
    dict(inputs=['rgb', 'segment_semantic'], target='depth_euclidean'),
    dict(inputs=['depth_euclidean', 'segment_semantic'], target='rgb'),
]
domains = ['rgb', 'depth_euclidean', 'segment_semantic']
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
