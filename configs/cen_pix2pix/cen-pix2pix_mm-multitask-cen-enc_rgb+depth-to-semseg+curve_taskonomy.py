_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 9, multimodal multitask CEN-ENC (IN x4, enc x1, dec x2): rgb +
# depth_euclidean -> segment_semantic, principal_curvature. Shared encoder convs,
# private INs per (input, task), one decoder per task; exchange among the inputs of a
# task in the encoder: True; among the task decoders: False.
# SemSeg = segment_semantic (Taskonomy's semantic labels, as the papers name it); the
# official code's domain table offers only segment_unsup2d/25d, so which folder the
# papers' SemSeg rows used is not recorded (docs/paper_protocol_translation.md).
tasks = [
    dict(inputs=['rgb', 'depth_euclidean'], target='segment_semantic'),
    dict(inputs=['rgb', 'depth_euclidean'], target='principal_curvature'),
]
domains = ['rgb', 'depth_euclidean', 'segment_semantic', 'principal_curvature']
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True, encoder_exchange=True, decoder_exchange=False))

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
