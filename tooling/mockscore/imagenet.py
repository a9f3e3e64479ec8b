"""A generated stand-in for brainscore's ImageNet validation file, so that nothing downloads.

brainscore_vision's LayerPCA (used by LayerSelection) fits each layer's principal
components on ImageNet validation images, read from the HDF5 file at `MT_IMAGENET_PATH`
and downloaded from S3 when that file is missing. In brainscore-vision 2.4.2
(`model_helpers/activations/pca.py`, `_get_imagenet_val`) the file contains a uint8 dataset
`val/images` of shape (images, height, width, 3) with 50 images per class in class order,
and n images are read as the first n // 1000 + 1 of each class: for the 1000 components
LayerSelection asks for, indices 0, 50, 100, ..., 49950.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tooling.mockscore.make_stimuli import CATEGORIES, IMAGE_SIZE, draw_image

CLASSES = 1000
IMAGES_PER_CLASS = 50
# Images written per class; the rest of the dataset stays unwritten (and takes no space)
# because LayerSelection reads only the first image of each class.
WRITTEN_PER_CLASS = 1
SEED = 1000


def write_imagenet_substitute(path: Path) -> None:
    """Write generated images to `path` in the layout LayerPCA reads, atomically."""
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    random = np.random.default_rng(SEED)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    shape = (CLASSES * IMAGES_PER_CLASS, IMAGE_SIZE, IMAGE_SIZE, 3)
    with h5py.File(partial, "w") as file:
        images = file.create_dataset(
            "val/images",
            shape=shape,
            dtype=np.uint8,
            chunks=(1, IMAGE_SIZE, IMAGE_SIZE, 3),
            compression="gzip",
        )
        for label in range(CLASSES):
            for offset in range(WRITTEN_PER_CLASS):
                image = draw_image(CATEGORIES[label % len(CATEGORIES)], random)
                images[label * IMAGES_PER_CLASS + offset] = np.round(image * 255).astype(np.uint8)
    os.replace(partial, path)
