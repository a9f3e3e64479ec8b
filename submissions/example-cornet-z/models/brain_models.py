"""An example brain model: a small CORnet-Z whose areas are committed to brain regions.

Copy this folder to start a submission of a model that is already mapped to the brain. A
brain model implements brainscore_vision's `BrainModel` interface. `ModelCommitment` builds
one from an activations wrapper; the explicit `region_layer_map` commits each region to
the area of the same name, so no layer selection runs.

The network follows CORnet-Z (one convolution, ReLU and max-pooling per area, V1 to IT)
with half the channels, and its weights are seeded random ones so that the example runs
offline. A real submission loads trained weights in `get_model` from a file inside the
submission folder, with a path built from `os.path.dirname(__file__)`, or from a pinned
URL whose checksum is verified (see the base-model example).

Images are resized to 64 x 64 pixels to keep the example quick on a CPU.
"""

import functools

import torch
from torch import nn

from brainscore_vision.model_helpers.activations.pytorch import (
    PytorchWrapper,
    load_preprocess_images,
)
from brainscore_vision.model_helpers.brain_transformation import ModelCommitment

IMAGE_SIZE = 64
VISUAL_DEGREES = 8
REGION_LAYER_MAP = {"V1": "V1", "V2": "V2", "V4": "V4", "IT": "IT"}


class Area(nn.Module):
    """One CORnet-Z area: convolution, ReLU, then 3 x 3 max-pooling with stride 2."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2
        )
        self.nonlin = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x):
        return self.pool(self.nonlin(self.conv(x)))


class SmallCORnetZ(nn.Module):
    def __init__(self, classes=1000):
        super().__init__()
        self.V1 = Area(3, 32, kernel_size=7, stride=2)
        self.V2 = Area(32, 64)
        self.V4 = Area(64, 128)
        self.IT = Area(128, 256)
        self.decoder = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, classes)
        )

    def forward(self, x):
        return self.decoder(self.IT(self.V4(self.V2(self.V1(x)))))


def get_model_list():
    return ["example-cornet-z-small-untrained"]


def get_model(name):
    assert name in get_model_list()
    torch.manual_seed(0)
    network = SmallCORnetZ()
    network.eval()
    preprocessing = functools.partial(load_preprocess_images, image_size=IMAGE_SIZE)
    activations = PytorchWrapper(identifier=name, model=network, preprocessing=preprocessing)
    activations.image_size = IMAGE_SIZE
    return ModelCommitment(
        identifier=name,
        activations_model=activations,
        layers=list(REGION_LAYER_MAP.values()),
        region_layer_map=dict(REGION_LAYER_MAP),
        visual_degrees=VISUAL_DEGREES,
    )


def get_bibtex(model_identifier):
    return """@article{kubilius2018cornet,
  title={CORnet: Modeling the Neural Mechanisms of Core Object Recognition},
  author={Kubilius, Jonas and Schrimpf, Martin and Nayebi, Aran and Bear, Daniel and
          Yamins, Daniel L. K. and DiCarlo, James J.},
  journal={bioRxiv},
  year={2018},
  doi={10.1101/408385}
}"""
