_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, CEN-cycle (IN x6, enc x1, dec x3): all flows every step, one shared
# encoder with 6 IN sets, one decoder per flow. Flows: rgb+depth_euclidean -> normal;
# rgb+normal -> depth_euclidean; depth_euclidean+normal -> rgb.
tasks = [
    dict(inputs=['rgb', 'depth_euclidean'], target='normal'),
    dict(inputs=['rgb', 'normal'], target='depth_euclidean'),
    dict(inputs=['depth_euclidean', 'normal'], target='rgb'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True))
