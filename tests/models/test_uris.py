"""Model URIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcycle.errors import InvalidInputError
from mlcycle.models import RegisteredModelUri, RunModelUri, parse_model_uri
from mlcycle.models.uris import LocalModelUri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("runs:/abc123/model", RunModelUri("abc123", "model")),
        ("runs:/abc123/models/churn/", RunModelUri("abc123", "models/churn")),
        ("models:/churn/3", RegisteredModelUri("churn", version=3)),
        ("models:/churn/latest", RegisteredModelUri("churn")),
        ("models:/churn@champion", RegisteredModelUri("churn", alias="champion")),
        ("models:/my model@prod-2", RegisteredModelUri("my model", alias="prod-2")),
        ("file:///tmp/model", LocalModelUri(Path("/tmp/model"))),
        ("out/model", LocalModelUri(Path("out/model"))),
    ],
)
def test_parse(uri: str, expected: object) -> None:
    assert parse_model_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    ["runs:/abc123", "runs:abc/model", "runs:/a b/model", "runs:/abc/../x"],
)
def test_bad_run_uris(uri: str) -> None:
    with pytest.raises(InvalidInputError, match="model URI") as caught:
        parse_model_uri(uri)
    assert caught.value.field == "uri"


@pytest.mark.parametrize(
    "uri",
    [
        "models:/churn",
        "models:/churn/0",
        "models:/churn/v2",
        "models:/churn@",
        "models:/@x",
        "models:/churn@1st",
        "s3://bucket/model",
        "",
    ],
)
def test_bad_uris(uri: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_model_uri(uri)


def test_uris_print_back() -> None:
    for text in ("runs:/abc/model", "models:/churn/3", "models:/churn@champion"):
        assert str(parse_model_uri(text)) == text
