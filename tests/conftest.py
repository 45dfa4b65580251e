"""Shared fixtures: every test writes under a temporary project root, never into the checkout."""
from __future__ import annotations

import pytest
import torch

from paperlib import get_config, load_dataset


@pytest.fixture(scope="session", autouse=True)
def project_root(tmp_path_factory: pytest.TempPathFactory) -> object:
    root = tmp_path_factory.mktemp("project")
    mp = pytest.MonkeyPatch()
    mp.setenv("PAPERLIB_ROOT", str(root))
    torch.set_num_threads(2)
    yield root
    mp.undo()


@pytest.fixture(scope="session")
def smoke_cfg():
    """The smoke preset (16 px OpenMoji people and animals, tiny networks)."""
    return get_config("smoke")


@pytest.fixture(scope="session")
def smoke_data(smoke_cfg):
    """A small fixed slice of the smoke training set (rendered once per session)."""
    return load_dataset(smoke_cfg.data, "train")
