_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 6, CEN-cycle (IN x6, enc x1, dec x1): all flows every step, one shared
# encoder and one shared decoder; the decoder INs are per flow (the convs are shared, so
# they tell the flows' targets apart). Flows: rgb+reshading -> edge_texture;
# rgb+edge_texture -> reshading; reshading+edge_texture -> rgb.
tasks = [
    dict(inputs=['rgb', 'reshading'], target='edge_texture'),
    dict(inputs=['rgb', 'edge_texture'], target='reshading'),
    dict(inputs=['reshading', 'edge_texture'], target='rgb'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=False, decoder_norms='task'))
