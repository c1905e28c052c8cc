"""Profile-completeness hints on the association's and the partner's profile pages (a
contact, languages, members, a description), and the association's contact details shown."""

from __future__ import annotations

import pytest
from pages_support import page_fixtures, sign_in, text_of

from matcher.principals import Principal, Role
from matcher.services import profiles

USERS = {  # username: (role, scope)
    "amina": (Role.ASSOCIATION, {"association_id": "demo-a-01"}),
    "umoja": (Role.ASSOCIATION, {"association_id": "demo-a-02"}),
    "partner-user": (Role.PARTNER, {"partner_id": "demo-p-01"}),
}
ADMIN = Principal(Role.ADMIN)
NO_CONTACT = "without one, nobody can be introduced to you"
NO_LANGUAGES = "suggestions favour those who share one"
NO_MEMBERS = "some offerings are open only from a number of members"

pages_db, app, module_client, client, engine = page_fixtures(USERS)


def test_association_without_contact_is_asked_for_one_and_nothing_else(client):
    sign_in(client, "amina")  # demo-a-01: languages, members, a description; no contact
    text = text_of(client.get("/profile").text)

    assert "To complete your profile" in text and NO_CONTACT in text
    assert NO_LANGUAGES not in text and NO_MEMBERS not in text
    assert "Complete the profile" in text


def test_association_profile_shows_its_contact_details_and_asks_for_what_is_missing(
        client, engine):
    profiles.change(engine, ADMIN, "associations", "demo-a-02", {
        "contact": {"name": "Neema Mwangi", "phone": "+255 700 000 111",
                    "whatsapp": "+255 700 000 222", "email": "umoja@example.org"},
        "languages": [], "members": 0})
    sign_in(client, "umoja")
    text = text_of(client.get("/profile").text)

    for shown in ("Contact person Neema Mwangi", "Phone +255 700 000 111",
                  "WhatsApp number +255 700 000 222", "Email umoja@example.org"):
        assert shown in text
    assert NO_CONTACT not in text and NO_LANGUAGES in text and NO_MEMBERS in text


def test_partner_profile_hints_and_its_complete_profile_has_none(client, engine):
    sign_in(client, "partner-user")
    text = text_of(client.get("/partner/profile").text)
    assert NO_CONTACT in text and NO_MEMBERS not in text

    profiles.change(engine, ADMIN, "partners", "demo-p-01", {
        "contact": {"email": "desk@example.org"}})
    text = text_of(client.get("/partner/profile").text)
    assert "To complete your profile" not in text and "Email desk@example.org" in text


@pytest.mark.parametrize("row,gaps", [
    ({"contact": {"name": "Only a name"}, "languages": ["en"], "members": 3,
      "description": "x"}, ["contact"]),
    ({"contact": {"whatsapp": "+1"}, "languages": [], "members": 0, "description": " "},
     ["languages", "members", "description"]),
])
def test_profile_gaps_need_a_way_to_reach_them(row, gaps):
    assert profiles.profile_gaps("associations", row) == gaps
