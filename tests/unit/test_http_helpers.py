import copy
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from uuid import UUID

import pytest

from jobprep.api.cursor import decode_cursor, encode_cursor
from jobprep.api.request import body_problem, parse_if_match, plain_json_content_type
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


def _post(content_type: str, body: str = '{"name": "x"}') -> dict[str, Any]:
    return {
        "body": body,
        "headers": {"Content-Type": content_type},
        "requestContext": {"http": {"method": "POST"}},
        "isBase64Encoded": False,
    }


def test_the_body_check_only_checks() -> None:
    event = _post("Application/JSON; charset=UTF-8")
    untouched = copy.deepcopy(event)
    assert body_problem(event) is None
    assert event == untouched
    assert body_problem(_post("text/plain")) == HTTPStatus.UNSUPPORTED_MEDIA_TYPE


def test_an_accepted_content_type_is_rewritten_as_plain_json_for_powertools() -> None:
    event = _post("Application/JSON; charset=UTF-8")
    plain_json_content_type(event)
    assert event["headers"] == {"Content-Type": "application/json"}
    bodiless = {**_post("Application/JSON"), "body": None}
    plain_json_content_type(bodiless)
    assert bodiless["headers"] == {"Content-Type": "Application/JSON"}, "no body, nothing to rewrite"
