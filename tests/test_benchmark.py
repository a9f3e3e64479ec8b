"""Tests of the mock benchmark, run in-process on small PyTorch networks built here."""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from tooling.mockscore import benchmark
from tooling.mockscore.benchmark import REGIONS, ModelProblems, offline_environment

IMAGE_SIZE = 32
NOISE_FEATURES = 200


class _NetworkBlocked(AssertionError):
    pass


def _guarded(connect):
    """Wrap socket.connect so that any address other than loopback fails the test."""

    @functools.wraps(connect)
    def guarded(self, address, *args, **kwargs):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise _NetworkBlocked(f"connection to {address!r} during a mock-score test")
        return connect(self, address, *args, **kwargs)

    return guarded


@pytest.fixture(scope="module", autouse=True)
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Set the offline environment and fail every connection to a non-loopback address."""
    environment = offline_environment(tmp_path_factory.mktemp("mock-score"))
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        patch.setattr(socket.socket, "connect", _guarded(socket.socket.connect))
        patch.setattr(socket.socket, "connect_ex", _guarded(socket.socket.connect_ex))
        yield environment


class NoiseLayer(torch.nn.Module):
    """Gives random features that do not depend on the image, the same on every call."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        generator = torch.Generator().manual_seed(7)
        return torch.randn(len(images), NOISE_FEATURES, generator=generator)


class SmallNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 16, 5, stride=2)
        self.relu1 = torch.nn.ReLU()
        self.conv2 = torch.nn.Conv2d(16, 32, 3, stride=2)
        self.relu2 = torch.nn.ReLU()
        self.pool = torch.nn.AdaptiveAvgPool2d(4)
        self.fc = torch.nn.Linear(32 * 16, 64)
        self.noise = NoiseLayer()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.relu2(self.conv2(self.relu1(self.conv1(images))))
        logits = self.fc(self.pool(features).flatten(1))
        return logits + 0 * self.noise(images).sum()


class BrokenNet(torch.nn.Module):
    """One good layer and one layer with each problem the benchmark detects."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 5, stride=4)
        self.narrow = torch.nn.Linear(8 * 49, 10)
        self.overflow = torch.nn.Identity()
        self.flat = torch.nn.Identity()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.conv(images).flatten(1)
        narrow = self.narrow(features)
        overflow = self.overflow(features * float("nan"))
        flat = self.flat(torch.ones_like(features))
        return narrow.sum() + overflow.sum() + flat.sum()


def _wrap(network: torch.nn.Module, identifier: str):
    from brainscore_vision.model_helpers.activations.pytorch import (
        PytorchWrapper,
        load_preprocess_images,
    )

    torch.manual_seed(0)
    preprocessing = functools.partial(load_preprocess_images, image_size=IMAGE_SIZE)
    return PytorchWrapper(network, preprocessing, identifier=identifier)


@pytest.fixture(scope="module")
def small_net():
    torch.manual_seed(0)
    return _wrap(SmallNet(), "small-net")


@pytest.fixture(scope="module")
def base_entry(small_net) -> dict:
    return benchmark.score_base_model("small-net", small_net, ["relu1", "relu2", "fc", "noise"])


@pytest.fixture(scope="module")
def broken_problems() -> list:
    torch.manual_seed(0)
    model = _wrap(BrokenNet(), "broken-net")
    layers = ["conv", "convv", "narrow", "overflow", "flat"]
    with pytest.raises(ModelProblems) as raised:
        benchmark.score_base_model("broken-net", model, layers)
    return raised.value.problems


def test_base_entry_layers(base_entry):
    assert base_entry["layers"] == ["relu1", "relu2", "fc", "noise"]


def test_base_entry_activation_shapes(base_entry):
    assert base_entry["activations"] == {
        "relu1": [120, 16 * 14 * 14],
        "relu2": [120, 32 * 6 * 6],
        "fc": [120, 64],
        "noise": [120, NOISE_FEATURES],
    }


def test_base_entry_bytes_per_image(base_entry):
    features = 16 * 14 * 14 + 32 * 6 * 6 + 64 + NOISE_FEATURES
    assert base_entry["activation_bytes_per_image"] == 4 * features


def test_base_entry_images(base_entry):
    assert base_entry["images"] == 120


def test_base_entry_regions_in_order(base_entry):
    assert list(base_entry["regions"]) == list(REGIONS)


def test_base_entry_layer_scores_cover_every_layer(base_entry):
    for region in REGIONS:
        assert set(base_entry["layer_scores"][region]) == {"relu1", "relu2", "fc", "noise"}


@pytest.mark.parametrize("region", REGIONS)
def test_ceiling_between_zero_and_one(base_entry, region):
    ceiling = base_entry["regions"][region]["ceiling"]
    assert 0 < ceiling < 1


@pytest.mark.parametrize("region", REGIONS)
def test_informative_layer_beats_noise(base_entry, region):
    scores = base_entry["layer_scores"][region]
    informative = max(scores["relu1"], scores["relu2"], scores["fc"])
    assert informative > scores["noise"] + 0.2


@pytest.mark.parametrize("region", REGIONS)
def test_noise_layer_scores_near_zero(base_entry, region):
    assert abs(base_entry["layer_scores"][region]["noise"]) < 0.15


@pytest.mark.parametrize("region", REGIONS)
def test_region_takes_best_layer(base_entry, region):
    scores = base_entry["layer_scores"][region]
    chosen = base_entry["regions"][region]
    assert chosen["layer"] == max(scores, key=scores.get)


@pytest.mark.parametrize("region", REGIONS)
def test_ceiled_score_is_explained_variance(base_entry, region):
    chosen = base_entry["regions"][region]
    assert chosen["ceiled"] == pytest.approx(chosen["raw"] ** 2 / chosen["ceiling"])


def test_behaviour_readout(base_entry):
    assert base_entry["behaviour"] == {"ok": True, "shape": [16, 4]}


@pytest.mark.slow
def test_scores_are_deterministic(base_entry, small_net):
    again = benchmark.score_base_model("small-net", small_net, ["relu1", "relu2", "fc", "noise"])
    assert again["layer_scores"] == base_entry["layer_scores"]


@pytest.mark.parametrize(
    ("code", "layer"),
    [
        pytest.param("layer-not-found", "convv", id="layer-not-found"),
        pytest.param("too-few-features", "narrow", id="too-few-features"),
        pytest.param("non-finite-activations", "overflow", id="non-finite-activations"),
        pytest.param("constant-activations", "flat", id="constant-activations"),
    ],
)
def test_layer_problem_names_layer(broken_problems, code, layer):
    messages = [problem.message for problem in broken_problems if problem.code == code]
    assert len(messages) == 1
    assert messages[0].startswith(f"layer '{layer}' ")


def test_layer_problems_one_per_bad_layer(broken_problems):
    assert [problem.code for problem in broken_problems] == [
        "layer-not-found",
        "too-few-features",
        "non-finite-activations",
        "constant-activations",
    ]


def test_layer_not_found_lists_nearest(broken_problems):
    assert "nearest layer names: 'conv'" in broken_problems[0].message


def test_layer_problems_point_at_base_models(broken_problems):
    assert {problem.file for problem in broken_problems} == {"models/base_models.py"}


def test_no_layers_rejected(small_net):
    with pytest.raises(ValueError, match="returned no layers"):
        benchmark.score_base_model("small-net", small_net, [])


@pytest.fixture(scope="module")
def brain_entry(small_net) -> dict:
    from brainscore_vision.model_helpers.brain_transformation import ModelCommitment

    commitment = ModelCommitment(
        identifier="small-net-brain",
        activations_model=small_net,
        layers=["relu1", "relu2", "fc"],
        region_layer_map={"V1": "relu1", "V2": "relu2", "V4": "relu2", "IT": "fc"},
    )
    return benchmark.score_brain_model("small-net-brain", commitment)


def test_brain_entry_has_no_layers(brain_entry):
    assert brain_entry["layers"] == []


@pytest.mark.parametrize("region", REGIONS)
def test_brain_entry_region_without_layer(brain_entry, region):
    assert brain_entry["regions"][region]["layer"] is None


def test_brain_entry_scores_match_base_layers(brain_entry, base_entry):
    # The committed model records the same layers the base model scored.
    assert brain_entry["regions"]["IT"]["raw"] == pytest.approx(
        base_entry["layer_scores"]["IT"]["fc"], abs=1e-6
    )


def test_brain_entry_behaviour(brain_entry):
    assert brain_entry["behaviour"] == {"ok": True, "shape": [16, 4]}


def test_brain_model_non_finite_recording_named(small_net):
    from brainscore_vision.model_helpers.brain_transformation import ModelCommitment

    torch.manual_seed(0)
    broken = _wrap(BrokenNet(), "broken-brain")
    commitment = ModelCommitment(
        identifier="broken-brain",
        activations_model=broken,
        layers=["conv", "overflow"],
        region_layer_map={"V1": "conv", "V2": "conv", "V4": "conv", "IT": "overflow"},
    )
    with pytest.raises(ModelProblems) as raised:
        benchmark.score_brain_model("broken-brain", commitment)
    assert [(p.code, "IT" in p.message) for p in raised.value.problems] == [
        ("non-finite-activations", True)
    ]


def test_pearson_matches_brainscore_pls_metric():
    from brainscore_vision import load_metric

    from tooling.mockscore import activations, neural

    stimulus_set = neural.load_stimulus_set()
    target = neural.region_benchmark("V4")._assembly
    features = np.random.default_rng(0).normal(size=(120, 300)).astype(np.float32)
    features[:, :16] += target.transpose("presentation", "neuroid").values
    source = activations.to_assembly("layer", features, stimulus_set)
    reference = load_metric("pls", crossvalidation_kwargs={"stratification_coord": "object_name"})
    assert float(neural.pls_metric()(source, target)) == pytest.approx(
        float(reference(source, target)), abs=1e-9
    )


def test_reduction_keeps_pls_score():
    from tooling.mockscore import activations, neural

    stimulus_set = neural.load_stimulus_set()
    target = neural.region_benchmark("V2")._assembly
    features = np.random.default_rng(1).normal(size=(120, 500)).astype(np.float32)
    features[:, :16] += target.transpose("presentation", "neuroid").values
    metric = neural.pls_metric()
    raw = metric(activations.to_assembly("layer", features, stimulus_set), target)
    reduced_features = activations.reduce(features)
    reduced = metric(activations.to_assembly("layer", reduced_features, stimulus_set), target)
    assert float(reduced) == pytest.approx(float(raw), abs=1e-6)


def test_stimuli_are_small_and_enough():
    from tooling.mockscore.make_stimuli import DATA_DIRECTORY

    files = [path for path in DATA_DIRECTORY.rglob("*") if path.is_file()]
    assert sum(path.stat().st_size for path in files) < 2 * 1024 * 1024
    assert len(list((DATA_DIRECTORY / "images").glob("*.png"))) >= 100


def test_imagenet_substitute_layout(offline):
    with h5py.File(offline["MT_IMAGENET_PATH"], "r") as file:
        images = file["val/images"]
        assert images.shape[0] == 50_000
        assert images[49_950].std() > 0


@pytest.mark.parametrize("label", [0, 120, 999])
def test_imagenet_substitute_repeats_stimuli(offline, label):
    from PIL import Image

    from tooling.mockscore import neural

    stimulus_set = neural.load_stimulus_set()
    stimulus_id = stimulus_set["stimulus_id"].values[label % len(stimulus_set)]
    expected = np.asarray(Image.open(stimulus_set.get_stimulus(stimulus_id)))
    with h5py.File(offline["MT_IMAGENET_PATH"], "r") as file:
        np.testing.assert_array_equal(file["val/images"][label * 50], expected)


def test_layer_pca_reads_substitute_offline(offline):
    from brainscore_vision.model_helpers.activations.pca import _get_imagenet_val

    paths = _get_imagenet_val(num_images=1000)
    assert len(paths) == 1000
    assert all(Path(path).is_file() for path in paths)


def test_offline_environment_disables_downloads(offline):
    assert offline["BS_INSTALL_DEPENDENCIES"] == "no"
    assert offline["RESULTCACHING_DISABLE"] == "1"


def test_offline_environment_disables_progress_bars(offline):
    assert offline["TQDM_DISABLE"] == "1"


def test_socket_guard_blocks_remote_address():
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as remote,
        pytest.raises(_NetworkBlocked),
    ):
        remote.connect(("192.0.2.1", 80))


def test_environment_set_for_tests(offline):
    assert os.environ["MT_IMAGENET_PATH"] == offline["MT_IMAGENET_PATH"]


class PlainWrapper:
    """An activations model without batch hooks, like wrappers not built on brainscore's."""

    def __init__(self, inner):
        self._inner = inner

    def __call__(self, *args, **kwargs):
        return self._inner(*args, **kwargs)


def test_extract_without_batch_hooks(small_net):
    from tooling.mockscore import activations, neural

    stimulus_set = neural.load_stimulus_set()
    hooked = activations.extract(small_net, ["relu2", "fc"], stimulus_set)
    plain = activations.extract(PlainWrapper(small_net), ["relu2", "fc"], stimulus_set)
    for expected, actual in zip(hooked.layers, plain.layers, strict=True):
        assert actual.layer == expected.layer
        np.testing.assert_allclose(actual.values, expected.values, rtol=1e-6)


def test_make_stimuli_reproduces_shipped_data(tmp_path):
    from PIL import Image

    from tooling.mockscore import make_stimuli

    make_stimuli.main(["--output", str(tmp_path)])
    shipped = make_stimuli.DATA_DIRECTORY
    assert (tmp_path / "stimuli.json").read_text() == (shipped / "stimuli.json").read_text()
    with (
        np.load(tmp_path / "responses.npz") as generated,
        np.load(shipped / "responses.npz") as committed,
    ):
        for region in REGIONS:
            np.testing.assert_array_equal(generated[region], committed[region])
    for image in sorted((shipped / "images").glob("*.png")):
        regenerated = np.asarray(Image.open(tmp_path / "images" / image.name))
        np.testing.assert_array_equal(regenerated, np.asarray(Image.open(image)))
