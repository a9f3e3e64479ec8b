"""Aliases that let 2019-template submissions import `model_tools` and `brainscore`.

Installed only in the child process that runs a submission. An old module name resolves
to today's module object itself, so that `isinstance` checks and module state are shared
between the old and the new name.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Mapping, Sequence


class LegacyAliasFinder(importlib.abc.MetaPathFinder):
    """Resolve old module names to today's modules through a name mapping.

    A name resolves by its longest mapped prefix: with `model_tools` mapped to
    `brainscore_vision.model_helpers`, `model_tools.activations.pca` becomes
    `brainscore_vision.model_helpers.activations.pca`.

    The finder sits first in sys.meta_path: after the alias `model_tools`, the standard
    path finder would otherwise load `model_tools.activations` a second time from the
    new package's folder, as a separate module. An installed package of the old name
    (a real `model_tools` on sys.path) wins over the aliases.
    """

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.mapping = dict(mapping)
        self.installed: dict[str, bool] = {}

    def is_installed(self, top_level: str) -> bool:
        if top_level not in self.installed:
            spec = importlib.machinery.PathFinder.find_spec(top_level)
            self.installed[top_level] = spec is not None
        return self.installed[top_level]

    def target_of(self, fullname: str) -> str | None:
        parts = fullname.split(".")
        for end in range(len(parts), 0, -1):
            prefix = ".".join(parts[:end])
            if prefix in self.mapping:
                return ".".join([self.mapping[prefix], *parts[end:]])
        return None

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        new_name = self.target_of(fullname)
        if new_name is None or self.is_installed(fullname.partition(".")[0]):
            return None
        if not module_exists(new_name):
            return None
        return importlib.machinery.ModuleSpec(fullname, AliasLoader(new_name))


class AliasLoader(importlib.abc.Loader):
    def __init__(self, new_name: str) -> None:
        self.new_name = new_name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        # The import system keeps the attributes of a module that already has a spec, so
        # the module stays what it is and is only registered under the old name too.
        return importlib.import_module(self.new_name)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def install_legacy_aliases(mapping: Mapping[str, str]) -> LegacyAliasFinder:
    """Put a finder for `mapping` (old module name to new) first in sys.meta_path."""
    finder = LegacyAliasFinder(mapping)
    sys.meta_path.insert(0, finder)
    return finder
