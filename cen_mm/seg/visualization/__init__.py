"""Drawing RGB-D / M-stream segmentation (mmseg VISUALIZERS and HOOKS registries)."""
from .rgbd_visualization_hook import RGBDSegVisualizationHook
from .rgbd_visualizer import (RGBDSegLocalVisualizer, colour_depth, exchange_bar_chart,
                              write_image)

__all__ = ['RGBDSegLocalVisualizer', 'RGBDSegVisualizationHook', 'colour_depth',
           'exchange_bar_chart', 'write_image']
