"""An example base model: torchvision's ResNet-18 with random weights.

Copy this folder to start a submission of a PyTorch model. Brain-Score maps the layers
that `get_layers` lists to the brain regions V1, V2, V4 and IT itself.

The network here is untrained (seeded random weights), so that the example runs offline and
downloads nothing. A real submission loads trained weights in `get_model` in one of two ways:

* from a file shipped inside the submission folder, with a path built from this module's
  location, never from the working directory (scoring runs from an empty folder)::

      weights = os.path.join(os.path.dirname(__file__), "resnet18.pth")
      network.load_state_dict(torch.load(weights, map_location="cpu"))

* or, for files over 25 MiB, from a pinned URL whose checksum is verified, so that a
  changed file is rejected rather than scored::

      state = torch.hub.load_state_dict_from_url(
          "https://example.org/weights/resnet18-0123abcd.pth", check_hash=True
      )

  (`check_hash` compares the file against the first digits of its SHA-256 that the file
  name carries.)

Images are resized to 64 x 64 pixels to keep the example quick on a CPU; a trained network
uses the size it was trained at, usually 224.
"""

import functools

import torch
import torchvision

from brainscore_vision.model_helpers.activations.pytorch import (
    PytorchWrapper,
    load_preprocess_images,
)

IMAGE_SIZE = 64


def get_model_list():
    return ["example-resnet18-untrained"]


def get_model(name):
    assert name in get_model_list()
    torch.manual_seed(0)
    network = torchvision.models.resnet18(weights=None)
    network.eval()
    preprocessing = functools.partial(load_preprocess_images, image_size=IMAGE_SIZE)
    wrapper = PytorchWrapper(identifier=name, model=network, preprocessing=preprocessing)
    wrapper.image_size = IMAGE_SIZE
    return wrapper


def get_layers(name):
    assert name in get_model_list()
    return ["layer1", "layer2", "layer3", "layer4"]


def get_bibtex(model_identifier):
    return """@inproceedings{he2016deep,
  title={Deep Residual Learning for Image Recognition},
  author={He, Kaiming and Zhang, Xiangyu and Ren, Shaoqing and Sun, Jian},
  booktitle={Proceedings of the IEEE Conference on Computer Vision and Pattern Recognition},
  pages={770--778},
  year={2016},
  doi={10.1109/CVPR.2016.90}
}"""
