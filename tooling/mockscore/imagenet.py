"""A generated stand-in for brainscore's ImageNet validation file, so that nothing downloads.

brainscore_vision's LayerPCA (used by LayerSelection) fits each layer's principal
components on ImageNet validation images. It reads them from the HDF5 file at
`MT_IMAGENET_PATH` and downloads that file from S3 when it is missing. In
brainscore-vision 2.4.2 (`model_helpers/activations/pca.py`, `_get_imagenet_val`) the file
contains a uint8 dataset `val/images` of shape (images, height, width, 3) with 50 images
per class in class order. n images are read as the first n // 1000 + 1 of each class: for
the 1000 components LayerSelection requests, indices 0, 50, 100, ..., 49950.

The stand-in repeats the mock stimuli in those places. The 1000 components then span every
layer's activations on the stimuli, so the standard layer selection (through LayerPCA)
scores the same as the raw layers the mock score uses and chooses the same layers.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from tooling.mockscore.make_stimuli import DATA_DIRECTORY, IMAGE_SIZE

CLASSES = 1000
IMAGES_PER_CLASS = 50


def substitute_filename() -> str:
    """Return the stand-in's file name, which changes whenever the stimuli change."""
    digest = hashlib.sha256((DATA_DIRECTORY / "stimuli.json").read_bytes())
    for image in sorted((DATA_DIRECTORY / "images").glob("*.png")):
        digest.update(image.read_bytes())
    return f"imagenet-substitute-{digest.hexdigest()[:12]}.hdf5"


def write_imagenet_substitute(path: Path) -> None:
    """Write the mock stimuli to `path` in the layout LayerPCA reads, atomically.

    Only the first image of each class is written. The rest of the dataset stays
    unwritten, and takes no space, because LayerSelection reads no other image.
    """
    import h5py

    records = json.loads((DATA_DIRECTORY / "stimuli.json").read_text())
    stimuli = [np.asarray(Image.open(DATA_DIRECTORY / record["filename"])) for record in records]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with h5py.File(partial, "w") as file:
        images = file.create_dataset(
            "val/images",
            shape=(CLASSES * IMAGES_PER_CLASS, IMAGE_SIZE, IMAGE_SIZE, 3),
            dtype=np.uint8,
            chunks=(1, IMAGE_SIZE, IMAGE_SIZE, 3),
            compression="gzip",
        )
        for label in range(CLASSES):
            images[label * IMAGES_PER_CLASS] = stimuli[label % len(stimuli)]
    os.replace(partial, path)
