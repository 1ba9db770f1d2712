"""The CTCAE v5.0 catalog shipped with the product."""

import pytest

from safety import ctcae
from safety.models import CtcaeTerm


@pytest.fixture(scope="module")
def terms():
    return ctcae.read_terms()


def test_the_whole_catalog_is_shipped(terms):
    assert len(terms) == 837  # as the source's provenance note counts
    assert len({t.meddra_code for t in terms}) == 837
    assert len({t.soc for t in terms}) == 26


def test_grades_are_those_ctcae_defines_for_the_term(terms):
    anemia = next(t for t in terms if t.term == "Anemia")
    assert sorted(anemia.grades) == [1, 2, 3, 4, 5] and anemia.meddra_code == 10002272
    no_death = next(t for t in terms if 5 not in t.grades)
    assert not ctcae.grade_allowed(no_death, 5)
    assert all(t.grades for t in terms)


def test_other_specify_terms_need_a_specification(terms):
    assert sum(t.needs_specification for t in terms) == 26
    assert not next(t for t in terms if t.term == "Anemia").needs_specification


@pytest.mark.django_db
def test_the_migration_loaded_every_term():
    assert CtcaeTerm.objects.count() == 837
    assert CtcaeTerm.objects.get(meddra_code=10002272).grades[3].startswith("Hgb <8.0 g/dL")


@pytest.mark.django_db
def test_terms_are_found_by_term_soc_or_code(api_as, coordinator, make_user):
    api = api_as(coordinator)
    by_term = api.get("/api/safety/ctcae-terms/", {"q": "anemia"}).json()
    assert "Anemia" in [t["term"] for t in by_term["results"]]
    by_code = api.get("/api/safety/ctcae-terms/", {"q": "10002272"}).json()
    assert [t["term"] for t in by_code["results"]] == ["Anemia"]
    by_soc = api.get("/api/safety/ctcae-terms/", {"q": "Blood and lymphatic"}).json()
    assert by_soc["count"] > 5
    assert api_as(make_user("radiologist")).get("/api/safety/ctcae-terms/").status_code == 403
