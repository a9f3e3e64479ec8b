from setuptools import find_packages, setup

setup(
    name="example-resnet18",
    version="0.1.0",
    description="An example base model for Brain-Score: ResNet-18 with random weights",
    packages=find_packages(),
    # torch, torchvision and brainscore_vision are provided by the scoring environment;
    # list every other package the models import.
    install_requires=[
        "torch",
        "torchvision",
    ],
    python_requires=">=3.11",
)
