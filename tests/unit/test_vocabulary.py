"""The vocabulary is defined once: what the form offers, what the API accepts and what the
matcher scores are the same words."""

from typing import get_args

import pytest
from pydantic import ValidationError

from chalicelib import matching, models, vocabulary
from chalicelib.mail import render


def test_form_api_and_matcher_use_the_same_goals() -> None:
    assert [key for key, _ in render.GOALS] == list(vocabulary.GOALS)
    assert set(matching.GOALS) == set(vocabulary.GOALS)
    for goal in vocabulary.GOALS:
        models.LunchPrefsPatch.model_validate({"goals": [goal]})
    with pytest.raises(ValidationError):
        models.LunchPrefsPatch.model_validate({"goals": ["get_rich"]})


def test_form_api_and_matcher_use_the_same_slots() -> None:
    assert render.AVAILABILITY == set(vocabulary.SLOTS) == set(matching.SLOTS)
    assert len(vocabulary.SLOTS) == len(vocabulary.DAYS) * len(vocabulary.DAY_PARTS) == 28
    for slot in vocabulary.SLOTS:
        models.LunchPrefsPatch.model_validate({"availability": [slot]})
    with pytest.raises(ValidationError):
        models.LunchPrefsPatch.model_validate({"availability": ["tue-brunch"]})


def test_labels_cover_every_key_in_order() -> None:
    assert tuple(k for k, _ in vocabulary.WEEKDAY_LABELS) == get_args(vocabulary.Weekday)
    assert tuple(k for k, _ in vocabulary.DAY_PART_LABELS) == get_args(vocabulary.DayPart)
    assert tuple(k for k, _ in vocabulary.GOAL_LABELS) == get_args(vocabulary.Goal)
