_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 7, multitask CEN-dec (IN x2, enc x1, dec x2): rgb -> segment_semantic,
# depth_euclidean. Shared encoder convs with private INs per task, one decoder per task,
# channel exchange between the task decoders after every decoder IN.
# SemSeg = segment_semantic (Taskonomy's semantic labels, as the papers name it); the
# official code's domain table offers only segment_unsup2d/25d, so which folder the
# papers' SemSeg rows used is not recorded (docs/paper_protocol_translation.md).
tasks = [
    dict(inputs=['rgb'], target='segment_semantic'),
    dict(inputs=['rgb'], target='depth_euclidean'),
]
domains = ['rgb', 'segment_semantic', 'depth_euclidean']
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True, decoder_exchange=True))

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
