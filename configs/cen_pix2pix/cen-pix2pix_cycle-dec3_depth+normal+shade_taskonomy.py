_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, CEN-cycle (IN x6, enc x1, dec x3): all flows every step, one shared
# encoder with 6 IN sets, one decoder per flow. Flows: depth_euclidean+normal ->
# reshading; depth_euclidean+reshading -> normal; normal+reshading -> depth_euclidean.
tasks = [
    dict(inputs=['depth_euclidean', 'normal'], target='reshading'),
    dict(inputs=['depth_euclidean', 'reshading'], target='normal'),
    dict(inputs=['normal', 'reshading'], target='depth_euclidean'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True))
