from .cen_image_classifier import CENImageClassifier

__all__ = ['CENImageClassifier']
