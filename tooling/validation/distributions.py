"""The mapping of imported modules to distributions, and the distributions scoring provides."""

from __future__ import annotations

import re

# The direct dependencies of brainscore-vision 2.4.2 and of brainscore-core 2.5.0 (which
# brainscore-vision requires as brainscore-core>=2.4), read from their Requires-Dist
# metadata without extras, plus the packages themselves. The scoring environment installs
# all of them, so a submission may import them without declaring them. Written out as a
# literal because the base install that validates submissions has none of them.
SCORING_ENVIRONMENT_DISTRIBUTIONS = (
    "brainscore-vision",
    "brainscore-core",
    # brainscore-vision 2.4.2
    "numpy",
    "pandas",
    "result-caching",
    "importlib-metadata",
    "scikit-learn",
    "scipy",
    "opencv-python",
    "h5py",
    "tqdm",
    "gitpython",
    "fire",
    "jupyter",
    "pybtex",
    "peewee",
    "psycopg2-binary",
    "networkx",
    "eva-decord",
    "psutil",
    "torch",
    "torchvision",
    # brainscore-core 2.5.0
    "PyYAML",
    "boto3",
    "netCDF4",
    "xarray",
    "Pillow",
    "requests",
)

# Import names that differ from the name of the distribution that provides them, for the
# packages common in vision and machine-learning code. The first distribution is the one
# suggested; the others provide the same module. Dotted keys cover namespace packages.
IMPORT_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "PIL": ("Pillow", "pillow-simd"),
    "Bio": ("biopython",),
    "Crypto": ("pycryptodome",),
    "IPython": ("ipython",),
    "Levenshtein": ("levenshtein", "python-Levenshtein"),
    "MySQLdb": ("mysqlclient",),
    "OpenSSL": ("pyOpenSSL",),
    "absl": ("absl-py",),
    "attr": ("attrs",),
    "bs4": ("beautifulsoup4",),
    "clip": ("openai-clip", "clip"),
    "cv2": (
        "opencv-python",
        "opencv-python-headless",
        "opencv-contrib-python",
        "opencv-contrib-python-headless",
    ),
    "dateutil": ("python-dateutil",),
    "decord": ("decord", "eva-decord"),
    "dotenv": ("python-dotenv",),
    "faiss": ("faiss-cpu", "faiss-gpu"),
    "fitz": ("PyMuPDF",),
    "git": ("GitPython",),
    "google.protobuf": ("protobuf",),
    "google.cloud.storage": ("google-cloud-storage",),
    "haiku": ("dm-haiku",),
    "hydra": ("hydra-core",),
    "jwt": ("PyJWT",),
    "lucent": ("torch-lucent",),
    "magic": ("python-magic",),
    "mpl_toolkits": ("matplotlib",),
    "open_clip": ("open-clip-torch",),
    "osgeo": ("GDAL",),
    "pkg_resources": ("setuptools",),
    "psycopg2": ("psycopg2-binary", "psycopg2"),
    "serial": ("pyserial",),
    "skimage": ("scikit-image",),
    "sklearn": ("scikit-learn",),
    "skvideo": ("scikit-video",),
    "sonnet": ("dm-sonnet",),
    "tree": ("dm-tree",),
    "umap": ("umap-learn",),
    "usb": ("pyusb",),
    "yaml": ("PyYAML",),
    "zmq": ("pyzmq",),
}

_SEPARATORS = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """Return the PEP 503 form of a distribution or module name: lower case, runs of
    `-`, `_` and `.` replaced by one `-`."""
    return _SEPARATORS.sub("-", name).lower()


PROVIDED_DISTRIBUTIONS = frozenset(normalize(name) for name in SCORING_ENVIRONMENT_DISTRIBUTIONS)


def mapped_import(module: str) -> str:
    """Return the part of a dotted import name that names its distribution: the longest
    prefix with a known mapping, else the top-level package."""
    parts = module.split(".")
    for length in range(len(parts), 1, -1):
        prefix = ".".join(parts[:length])
        if prefix in IMPORT_DISTRIBUTIONS:
            return prefix
    return parts[0]


def candidate_distributions(module: str) -> tuple[str, ...]:
    """Return the distributions that may provide `module` (a dotted import name), the one to
    suggest first.

    Without a known mapping, the distribution is assumed to be named like the top-level
    package, which holds for most of PyPI.
    """
    name = mapped_import(module)
    return IMPORT_DISTRIBUTIONS.get(name, (name,))


def is_provided_distribution(name: str) -> bool:
    return normalize(name) in PROVIDED_DISTRIBUTIONS
