from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from jobprep.api.cursor import decode_cursor, encode_cursor
from jobprep.api.request import parse_if_match
from jobprep.errors import InvalidInput
from jobprep.identity import plan_features as _features
from jobprep.keyset import Position


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("*", None),
        ('"3"', frozenset({3})),
        ('"3", "5"', frozenset({3, 5})),
        ('W/"3"', frozenset()),  # weak tags never match a strong comparison
        ("3", frozenset()),
        ('"abc"', frozenset()),
    ],
)
def test_parse_if_match(header: str | None, expected: frozenset[int] | None) -> None:
    assert parse_if_match(header) == expected


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("u:1_interview,u:unlimited_interviews", {"1_interview", "unlimited_interviews"}),
        ("[u:1_interview o:team_feature]", {"1_interview", "team_feature"}),  # HTTP API renders arrays so
        (["unlimited_interviews"], {"unlimited_interviews"}),
        (None, set()),
        ("", set()),
    ],
)
def test_plan_features_claim_forms(claim: Any, expected: set[str]) -> None:
    assert _features(claim) == expected


def test_cursor_round_trip() -> None:
    position = Position(datetime(2026, 11, 24, 12, 0, 0, 123456, tzinfo=UTC), UUID(int=7))
    assert decode_cursor(encode_cursor(position)) == position


@pytest.mark.parametrize("cursor", ["", "not-base64!", "W10", "WyJ4IiwieSJd", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwiMSJd"])
def test_bad_cursor_is_a_validation_error(cursor: str) -> None:
    with pytest.raises(InvalidInput) as info:
        decode_cursor(cursor)
    assert info.value.loc == ("query", "cursor")
