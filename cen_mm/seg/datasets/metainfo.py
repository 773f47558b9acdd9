"""Class names and palettes of the RGB-D segmentation sets (no mmseg import).

Label convention of our converted layout (both sets): class ids ``0..K-1`` in the order
below, ``255`` = unlabelled / ignored.

* NYUDv2, 40 classes: the 40-class task of Gupta et al. (CVPR 2013), names in the order of
  the CEN / light-weight RefineNet release (``classes40.txt``).
* SUN RGB-D, 37 classes: the 37-class benchmark of Song et al. (CVPR 2015); the first 37
  NYUDv2 classes, same order.
"""
from typing import List, Tuple

NYUDV2_CLASSES: Tuple[str, ...] = (
    'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window',
    'bookshelf', 'picture', 'counter', 'blinds', 'desk', 'shelves', 'curtain',
    'dresser', 'pillow', 'mirror', 'floor mat', 'clothes', 'ceiling', 'books',
    'refridgerator', 'television', 'paper', 'towel', 'shower curtain', 'box',
    'whiteboard', 'person', 'night stand', 'toilet', 'sink', 'lamp', 'bathtub', 'bag',
    'otherstructure', 'otherfurniture', 'otherprop')

SUNRGBD_CLASSES: Tuple[str, ...] = (
    'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window',
    'bookshelf', 'picture', 'counter', 'blinds', 'desk', 'shelves', 'curtain',
    'dresser', 'pillow', 'mirror', 'floor mat', 'clothes', 'ceiling', 'books', 'fridge',
    'tv', 'paper', 'towel', 'shower curtain', 'box', 'whiteboard', 'person',
    'night stand', 'toilet', 'sink', 'lamp', 'bathtub', 'bag')

IGNORE_INDEX = 255


def bit_interleaved_palette(num_classes: int) -> List[List[int]]:
    """Distinct RGB colours for ``num_classes`` classes (PASCAL-VOC style colour map).

    Colour of class ``k`` is the VOC colour of index ``k + 1``: the bits of ``k + 1`` are
    spread over the high bits of R, G and B. Index 0 of that map (black) is skipped so
    that no class is drawn black like unlabelled pixels usually are.
    """
    palette = []
    for k in range(num_classes):
        index, rgb = k + 1, [0, 0, 0]
        for shift in range(7, -1, -1):
            for channel in range(3):
                rgb[channel] |= ((index >> channel) & 1) << shift
            index >>= 3
        palette.append(rgb)
    return palette
