"""One home for the package's tests (a hub process and a cloud take a minute to start on 2 cores).
A test that changes the link (cut, slow) puts it back before it ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.netns.home import Home, edge_home


@pytest.fixture(scope="package")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with edge_home(tmp_path_factory.mktemp("edge-home")) as running:
        yield running
