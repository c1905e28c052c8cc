"""One shape per record kind: the exchange records (matcher.exchange) are the engine's, and
the API's request and response models follow them, so a field cannot be added in one place and
forgotten in another."""

from __future__ import annotations

import pytest

from api import profile_schemas as s
from matcher.exchange import Association, Need, Offering, Partner, Practice
from matcher.store.base import _JSON, _decode, _encode
from matcher.store.profiles import offering_record

# kind: (record, create, update, public, fields only the API adds to the public model,
#        record fields a client never sets)
KINDS = {
    "associations": (Association, s.AssociationCreate, s.AssociationUpdate,
                     s.AssociationPublic, {"visibility"}, {"region", "needs", "practices"}),
    "partners": (Partner, s.PartnerCreate, s.PartnerUpdate, s.PartnerPublic, set(),
                 {"offerings"}),
    "needs": (Need, s.NeedCreate, s.NeedUpdate, s.NeedPublic,
              {"association_id", "text_hidden"}, set()),
    "practices": (Practice, s.PracticeCreate, s.PracticeUpdate, s.PracticePublic,
                  {"association_id"}, set()),
    "offerings": (Offering, s.OfferingCreate, s.OfferingUpdate, s.OfferingPublic,
                  {"partner_id"}, set()),
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_api_models_carry_exactly_the_records_fields(kind):
    record, create, update, public, added, internal = KINDS[kind]
    fields = set(record.model_fields) - internal
    assert set(create.model_fields) | {"id"} == fields | {"id"}
    assert set(update.model_fields) == fields - {"id"}
    assert set(public.model_fields) - added == fields - {"needs", "practices", "offerings"} \
        | ({"region"} if kind == "associations" else set())


def test_the_offering_models_are_derived_from_the_record():
    """A field of the record is a field of each model, with the record's default."""
    for name, info in Offering.model_fields.items():
        if name == "id":
            continue
        assert s.OfferingCreate.model_fields[name].is_required() == info.is_required()
        assert not s.OfferingUpdate.model_fields[name].is_required()
    body = s.OfferingCreate.model_validate({"title": "Retorts", "category": "environment"})
    assert body.regions == [] and body.active is True and body.capacity is None


def test_an_offering_row_maps_back_to_the_record_it_was_written_from():
    record = Offering(id="o-1", title="Retorts", category="environment", regions=["latin_america"],
                      languages=["es"], commodities=["gold"], capacity=3, active=False,
                      eligibility={"women_led_only": True, "min_members": 12},
                      valid_until="2027-01-31")
    row = record.model_dump(mode="json", exclude={"eligibility"})
    row.update(record.eligibility.model_dump(), partner_id="p-1")
    stored = _decode(_encode(row))  # the columns as SQLite keeps them, and back
    assert offering_record(stored) == record
    assert {"regions", "languages", "commodities", "countries"} <= _JSON
