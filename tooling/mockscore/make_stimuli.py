"""Generate the mock benchmark's stimuli and synthetic neural recordings.

`python -m tooling.mockscore.make_stimuli` rewrites `tooling/mockscore/data/`: one small PNG
per stimulus, `stimuli.json` with each stimulus's category, and `responses.npz` with
simulated recordings (repetitions x stimuli x neuroids) for V1, V2, V4 and IT.

Each image shows one shape (the category: disk, square, triangle or cross) of some colour,
size and position over a coloured oriented grating. The simulated neurons respond to
statistics of the image, simplest in V1 and most nonlinear in IT:

- V1: Gabor energy (4 orientations x 2 spatial frequencies) pooled on a 4 x 4 grid,
- V2: the V1 energies pooled on a 2 x 2 grid, their cross-orientation products and local
  contrast, through a random one-layer network and a squaring,
- V4: the coarse V2 energies and products with colour means on a 2 x 2 grid and colour
  opponency, through a random two-layer network,
- IT: the shape category, a rough measure of its area, the global colour and the
  cross-orientation products, through a random three-layer network.

Every neuron gets trial noise, so the split-half consistency of each region is below 1.
The files are committed; rerun this script only to change the stimuli on purpose, because
every recorded mock score depends on them.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

DATA_DIRECTORY = Path(__file__).parent / "data"
IMAGE_SIZE = 64
CATEGORIES = ("disk", "square", "triangle", "cross")
IMAGES_PER_CATEGORY = 30
NEUROIDS_PER_REGION = 16
REPETITIONS = 6
SEED = 2019
# Trial noise standard deviation per region, in units of the noise-free response's
# standard deviation. With 6 repetitions, 1.0 gives a split-half ceiling of about 0.86 and
# 1.4 about 0.75.
NOISE_SD = {"V1": 1.0, "V2": 1.1, "V4": 1.25, "IT": 1.4}

logger = logging.getLogger(__name__)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    coordinates = (np.arange(IMAGE_SIZE) + 0.5) / IMAGE_SIZE
    return np.meshgrid(coordinates, coordinates, indexing="ij")


def _shape_mask(category: str, center: np.ndarray, size: float, angle: float) -> np.ndarray:
    rows, columns = _grid()
    dy, dx = rows - center[0], columns - center[1]
    # Rotate the coordinates into the shape's frame.
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    if category == "disk":
        return u**2 + v**2 <= size**2
    if category == "square":
        return (np.abs(u) <= size * 0.85) & (np.abs(v) <= size * 0.85)
    if category == "triangle":
        # An isosceles triangle pointing along -v.
        return (v <= size * 0.7) & (np.abs(u) <= (v + size) * 0.6)
    if category == "cross":
        arm = size * 0.3
        horizontal = (np.abs(u) <= size) & (np.abs(v) <= arm)
        vertical = (np.abs(v) <= size) & (np.abs(u) <= arm)
        return horizontal | vertical
    raise ValueError(f"unknown category {category!r}")


def draw_image(category: str, random: np.random.Generator) -> np.ndarray:
    """Draw one stimulus as an IMAGE_SIZE x IMAGE_SIZE x 3 float array in [0, 1]."""
    rows, columns = _grid()
    orientation = random.uniform(0, np.pi)
    frequency = random.uniform(2, 9)  # cycles per image
    phase = random.uniform(0, 2 * np.pi)
    contrast = random.uniform(0.05, 0.35)
    background = random.uniform(0.25, 0.75, size=3)
    wave = np.sin(
        2 * np.pi * frequency * (columns * np.cos(orientation) + rows * np.sin(orientation)) + phase
    )
    image = background[None, None, :] + contrast * wave[:, :, None]

    center = random.uniform(0.3, 0.7, size=2)
    size = random.uniform(0.1, 0.26)
    mask = _shape_mask(category, center, size, angle=random.uniform(0, np.pi))
    image[mask] = random.uniform(0, 1, size=3)
    return np.clip(image, 0, 1)


def _gabor_energy(gray: np.ndarray) -> np.ndarray:
    """Return quadrature Gabor energy maps, (orientations x frequencies) x H x W."""
    frequencies = np.fft.fftfreq(IMAGE_SIZE)
    fy, fx = np.meshgrid(frequencies, frequencies, indexing="ij")
    spectrum = np.fft.fft2(gray - gray.mean())
    maps = []
    for orientation in np.arange(4) * np.pi / 4:
        for peak in (4 / IMAGE_SIZE, 10 / IMAGE_SIZE):
            along = fx * np.cos(orientation) + fy * np.sin(orientation)
            across = -fx * np.sin(orientation) + fy * np.cos(orientation)
            # One-sided Gaussian band: its inverse transform is a complex (quadrature) Gabor.
            band = np.exp(-((along - peak) ** 2 + across**2) / (2 * (peak / 2.5) ** 2))
            maps.append(np.abs(np.fft.ifft2(spectrum * band)))
    return np.stack(maps)


def _pool(maps: np.ndarray, cells: int) -> np.ndarray:
    """Average maps (channels x H x W) on a cells x cells grid, flattened."""
    channels = maps.shape[0]
    step = IMAGE_SIZE // cells
    pooled = maps.reshape(channels, cells, step, cells, step).mean(axis=(2, 4))
    return pooled.reshape(-1)


def image_statistics(image: np.ndarray, category: str) -> dict[str, np.ndarray]:
    """Compute the statistics each simulated region responds to, as flat vectors."""
    gray = image.mean(axis=2)
    energy = _gabor_energy(gray)
    coarse = energy.reshape(4, 2, IMAGE_SIZE, IMAGE_SIZE).mean(axis=1)  # per orientation
    coarse_pooled = _pool(coarse, 2).reshape(4, 4)
    cross_orientation = np.array(
        [coarse_pooled[a] * coarse_pooled[b] for a in range(4) for b in range(a + 1, 4)]
    ).reshape(-1)
    local_contrast = _pool((gray[None] - _pool(gray[None], 1)) ** 2, 4)
    colour_means = _pool(np.moveaxis(image, 2, 0), 2)
    red, green, blue = image.mean(axis=(0, 1))
    opponency = np.array([red - green, (red + green) / 2 - blue])
    foreground = np.abs(gray - np.median(gray)) > 0.15
    return {
        "V1": _pool(energy, 4),
        "V2": np.concatenate([_pool(energy, 2), cross_orientation, local_contrast]),
        "V4": np.concatenate([_pool(energy, 2), cross_orientation, colour_means, opponency]),
        "IT": np.concatenate(
            [
                4.0 * (np.array(CATEGORIES) == category),
                [foreground.mean()],
                image.mean(axis=(0, 1)),
                opponency,
                cross_orientation,
            ]
        ),
    }


def _standardize(values: np.ndarray) -> np.ndarray:
    deviation = values.std(axis=0)
    return (values - values.mean(axis=0)) / np.where(deviation > 0, deviation, 1)


def _random_network(
    features: np.ndarray, depth: int, width: int, random: np.random.Generator
) -> np.ndarray:
    hidden = _standardize(features)
    for _ in range(depth):
        weights = random.normal(size=(hidden.shape[1], width)) / np.sqrt(hidden.shape[1])
        hidden = _standardize(np.tanh(1.5 * hidden @ weights))
    return hidden


def simulate_region(region: str, statistics: np.ndarray, random: np.random.Generator) -> np.ndarray:
    """Simulate repetitions x stimuli x neuroids responses of one region."""
    if region == "V1":
        # Each neuron sums the energy of a few oriented filters, rectified.
        drive = np.zeros((statistics.shape[0], NEUROIDS_PER_REGION))
        standardized = _standardize(statistics)
        for neuroid in range(NEUROIDS_PER_REGION):
            inputs = random.choice(statistics.shape[1], size=4, replace=False)
            drive[:, neuroid] = standardized[:, inputs] @ random.uniform(0.5, 1.5, size=4)
        signal = np.maximum(drive, 0) + 0.2 * drive
    elif region == "V2":
        hidden = _random_network(statistics, depth=1, width=64, random=random)
        signal = hidden @ random.normal(size=(64, NEUROIDS_PER_REGION)) ** 2
    else:
        depth = 2 if region == "V4" else 3
        hidden = _random_network(statistics, depth=depth, width=64, random=random)
        signal = np.tanh(hidden @ random.normal(size=(64, NEUROIDS_PER_REGION)) / 4)
    signal = _standardize(signal)
    noise = NOISE_SD[region] * random.normal(size=(REPETITIONS, *signal.shape))
    return (signal[None] + noise).astype(np.float32)


def generate(directory: Path) -> None:
    """Write the images, `stimuli.json` and `responses.npz` into `directory`."""
    random = np.random.default_rng(SEED)
    image_directory = directory / "images"
    image_directory.mkdir(parents=True, exist_ok=True)
    for stale in image_directory.glob("*.png"):
        stale.unlink()

    records = []
    statistics: dict[str, list[np.ndarray]] = {}
    categories = [c for c in CATEGORIES for _ in range(IMAGES_PER_CATEGORY)]
    for index, category in enumerate(random.permutation(categories)):
        stimulus_id = f"mock-{index:03d}"
        image = draw_image(str(category), random)
        pixels = np.round(image * 255).astype(np.uint8)
        Image.fromarray(pixels).save(image_directory / f"{stimulus_id}.png", optimize=True)
        records.append(
            {
                "stimulus_id": stimulus_id,
                "filename": f"images/{stimulus_id}.png",
                "object_name": str(category),
            }
        )
        # The statistics come from the saved 8-bit pixels, which are what the models see.
        region_statistics = image_statistics(pixels / 255.0, str(category))
        for region, values in region_statistics.items():
            statistics.setdefault(region, []).append(values)

    responses = {
        region: simulate_region(region, np.stack(values), random)
        for region, values in statistics.items()
    }
    (directory / "stimuli.json").write_text(json.dumps(records, indent=1) + "\n")
    np.savez_compressed(directory / "responses.npz", **responses)
    logger.info("wrote %d stimuli and responses to %s", len(records), directory)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=DATA_DIRECTORY, help="folder to write (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    generate(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
