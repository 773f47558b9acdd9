_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, CEN-cycle (IN x6, enc x1, dec x3): all flows every step, one shared
# encoder with 6 IN sets, one decoder per flow. Flows: rgb+reshading -> edge_texture;
# rgb+edge_texture -> reshading; reshading+edge_texture -> rgb.
tasks = [
    dict(inputs=['rgb', 'reshading'], target='edge_texture'),
    dict(inputs=['rgb', 'edge_texture'], target='reshading'),
    dict(inputs=['reshading', 'edge_texture'], target='rgb'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True))
