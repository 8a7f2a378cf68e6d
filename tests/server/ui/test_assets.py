"""The vendored files match their pinned hashes, each has its license, and no page or
stylesheet reaches a CDN."""

from __future__ import annotations

import re

from mlcycle.server.ui import assets
from mlcycle.server.ui.render import TEMPLATES


def test_vendored_files_match_the_manifest() -> None:
    assert assets.verify_vendored() == []


def test_every_vendored_package_ships_its_license() -> None:
    for name, package in assets.manifest()["packages"].items():
        licenses = [f for f in package["files"] if "LICENSE" in f]
        assert licenses, f"{name} has no license file"
        for file in package["files"]:
            assert (assets.VENDOR / file).is_file(), file


def test_no_template_or_script_of_ours_loads_from_another_host() -> None:
    ours = [*TEMPLATES.glob("*.html"), *assets.STATIC.glob("*.js"), *assets.STATIC.glob("*.css")]
    for path in ours:
        assert not re.search(r"""(src|href)=["']https?://""", path.read_text()), path
        assert "cdn" not in path.read_text().lower(), path
