"""The meetup and introduction emails read as sentences to their reader, whoever the connector
is and however many people they name (contexts from test_render)."""

from __future__ import annotations

from test_render import EMAILS

from chalicelib.mail.render import render_email

ORGANIZERS = "The Berlin Product Lunch organizers"


def test_meetup_people_text_puts_each_reason_under_its_person() -> None:
    _, text, _ = render_email("meetup_people", **EMAILS["meetup_people"])
    lines = text.splitlines()
    ben = lines.index("- Ben Ode, Data engineer")
    assert lines[ben + 1].strip().startswith("You asked for")
    assert lines[lines.index("- Cy Lo") + 1].strip() == "You're both into climate."


def test_meetup_people_says_where_to_turn_suggestions_off_with_a_link() -> None:
    _, text, html = render_email("meetup_people", **EMAILS["meetup_people"])
    assert "Turn them off on your lunch preferences page" in text
    assert 'href="https://lunch.example/settings/tok"' in html
    assert "each of them too" in text
    one = {**EMAILS["meetup_people"], "people": EMAILS["meetup_people"]["people"][:1]}
    _, text, _ = render_email("meetup_people", **one)
    assert "Here is someone going" in text and "suggested you to them too" in text


def test_an_organizers_introduction_agrees_with_its_plural_connector() -> None:
    offer = {**EMAILS["intro_offer"], "connector": ORGANIZERS}
    subject, text, html = render_email("intro_offer", **offer)
    assert subject == f"{ORGANIZERS} think you should meet Ben Ode"
    assert f"{ORGANIZERS} think you should meet" in text and "thinks" not in text + html
    connected = {**EMAILS["intro_connected"], "connector": "the Berlin Product Lunch organizers"}
    _, text, _ = render_email("intro_connected", **connected)
    assert "Thank you to the Berlin Product Lunch organizers for the introduction" in text
    assert "Thank you, the" not in text


def test_meetup_met_lists_people_apart_from_the_question() -> None:
    _, text, _ = render_email("meetup_met", **EMAILS["meetup_met"])
    assert "\n\n- Ben Ode, Data engineer\n  Yes, I met Ben Ode: https://l.ex/met/t?who=mem_b\n" in text
    assert "again" not in text  # they have not had a lunch together: nothing happens "again"
