"""The "Not interested" button on an association's suggestions: the suggestion goes, for
that need only, and is kept as a label; nobody else can press it."""

from __future__ import annotations

import re

from pages_support import page_fixtures, post, sign_in

from matcher.principals import Role
from matcher.ranking.learn import labels

OWN = "demo-a-01"
OWN_NEED = "demo-n-001"
USERS = {
    "amina": (Role.ASSOCIATION, {"association_id": OWN}),
    "other-member": (Role.ASSOCIATION, {"association_id": "demo-a-02"}),
    "coord-africa": (Role.COORDINATOR, {"regions": ["africa_anglophone"]}),
}

pages_db, app, module_client, client, engine = page_fixtures(USERS)


def cards(html: str, kind: str) -> list[str]:
    section = html.split(f'aria-labelledby="{kind}s-title"', 1)[1].split("</section>", 1)[0]
    return section.split('<li class="card">')[1:]


def item_of(card: str) -> str:
    return re.search(r'name="item_id" value="([^"]+)"', card).group(1)


def test_not_interested_hides_the_suggestion_and_says_so(client, engine):
    sign_in(client, "amina")
    page = client.get(f"/needs/{OWN_NEED}").text
    assert all("Not interested" in card for card in cards(page, "partner"))
    item_id = item_of(cards(page, "peer")[0])
    response = post(client, f"/needs/{OWN_NEED}/not-interested",
                    {"kind": "peer", "item_id": item_id}, page=f"/needs/{OWN_NEED}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/needs/{OWN_NEED}?hidden=1#hidden"
    after = client.get(response.headers["location"]).text
    assert "will not be shown for this need again" in after
    assert item_id not in [item_of(card) for card in cards(after, "peer")]
    assert [(x.need_id, x.kind, x.item_id, x.y) for x in labels(engine.store)
            if x.source.startswith("not_interested")] == [(OWN_NEED, "peer", item_id, 0)]


def test_others_cannot_mark_a_needs_suggestion_not_interested(client, engine):
    for user in ("other-member", "coord-africa"):
        client.cookies.clear()
        sign_in(client, user)
        response = post(client, f"/needs/{OWN_NEED}/not-interested",
                        {"kind": "partner", "item_id": "demo-o-001"}, page="/")
        assert response.status_code == 404, user
    assert not engine.store.not_interested_items(OWN_NEED, "partner")
