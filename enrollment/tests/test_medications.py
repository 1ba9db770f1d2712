"""Concomitant medication warnings and medical history dates (enrollment/medications.py, pure):
the drugs the Stivarga label names in section 7, the FDA table's strong CYP3A inhibitors and
inducers, the HBV antiviral continuation of ASCO 2020, ISO 8601 partial dates."""

from datetime import date

import pytest

from enrollment import medications as m

D0 = date(2026, 3, 1)  # day 0 of treatment


# The Stivarga label, 7.2: strong CYP3A4 inhibitors to avoid
@pytest.mark.parametrize(
    "name",
    [
        "clarithromycin",
        "grapefruit juice",
        "itraconazole",
        "ketoconazole",
        "posaconazole",
        "telithromycin",
        "voriconazole",
    ],
)
def test_the_labels_strong_cyp3a4_inhibitors(name):
    kind, drug = m.cyp3a4_interaction(name)
    assert kind == m.STRONG_INHIBITOR and drug.name == name


# The Stivarga label, 7.1: strong CYP3A4 inducers to avoid
@pytest.mark.parametrize(
    "name, generic",
    [
        ("rifampin", "rifampicin"),
        ("phenytoin", "phenytoin"),
        ("carbamazepine", "carbamazepine"),
        ("phenobarbital", "phenobarbital"),
        ("St. John's Wort", "st john s wort"),
    ],
)
def test_the_labels_strong_cyp3a4_inducers(name, generic):
    kind, drug = m.cyp3a4_interaction(name)
    assert kind == m.STRONG_INDUCER and drug.name == generic


@pytest.mark.parametrize(
    "name, atc, generic",
    [
        ("Clarithromycin 500 mg tablets", "", "clarithromycin"),
        ("KLACID", "", "clarithromycin"),
        ("Biaxin XL", "", "clarithromycin"),
        ("clarithromycin lactobionate", "", "clarithromycin"),
        ("Itraconazol", "J02AC02", "itraconazole"),  # a spelling: the ATC code decides
        ("Lopinavir/Ritonavir", "", "ritonavir"),  # the FDA table: ritonavir-boosted
        ("Paxlovid (nirmatrelvir/ritonavir)", "", "ritonavir"),
        ("Rifampicin", "", "rifampicin"),
        ("Phenytoin sodium", "", "phenytoin"),
        ("Tegretol CR", "", "carbamazepine"),
        ("Xtandi", "", "enzalutamide"),  # the FDA table's strong inducers
        ("St Johns wort extract", "", "st john s wort"),
        ("", "J04AB02", "rifampicin"),
    ],
)
def test_names_salts_brands_and_atc_codes_are_recognised(name, atc, generic):
    assert m.cyp3a4_interaction(name, atc)[1].name == generic


@pytest.mark.parametrize(
    "name, atc",
    [
        ("paracetamol", ""),
        ("fluconazole", "J02AC01"),  # a moderate inhibitor: not a strong one
        ("erythromycin", "J01FA01"),
        ("entecavir", "J05AF10"),
        ("dexamethasone", ""),  # a moderate inducer
        ("clarithro", ""),  # a fragment is not a name
        ("", "J02AC"),  # a class, not a drug
    ],
)
def test_other_drugs_are_not_strong_cyp3a4_modulators(name, atc):
    assert m.cyp3a4_interaction(name, atc) is None


def test_a_ketoconazole_shampoo_is_not_the_labels_ketoconazole():
    assert m.cyp3a4_interaction("ketoconazole 2% shampoo", route="topical") is None
    assert m.cyp3a4_interaction("ketoconazole", route="oral") is not None


def med(key, name, start, stop=None, atc=""):
    return m.Medication(key=key, name=name, start=start, stop=stop, atc=atc)


def test_a_strong_inhibitor_during_treatment_is_warned_with_the_label_as_source():
    found = m.warnings(
        [med(1, "Clarithromycin", date(2026, 3, 5), date(2026, 3, 12))],
        hbv=False,
        treatment_start=D0,
    )
    assert [(w.code, w.medication) for w in found] == [(m.STRONG_INHIBITOR, 1)]
    assert "regorafenib" in found[0].message and "Stivarga" in found[0].source


def test_a_strong_inducer_stopped_before_treatment_is_not_warned():
    stopped = med(1, "rifampicin", date(2025, 1, 1), date(2026, 2, 1))
    assert m.warnings([stopped], hbv=False, treatment_start=D0) == []
    assert m.warnings([stopped], hbv=False, treatment_start=None) == []
    ongoing = med(2, "rifampicin", date(2025, 1, 1))
    assert [w.code for w in m.warnings([ongoing], hbv=False, treatment_start=None)] == [
        m.STRONG_INDUCER
    ]


def test_hbv_without_an_ongoing_antiviral_is_warned():
    found = m.warnings([], hbv=True, treatment_start=None)
    assert [w.code for w in found] == [m.HBV_NO_ANTIVIRAL]
    assert "Hwang" in found[0].source
    assert (
        m.warnings([med(1, "Entecavir 0.5 mg", date(2020, 1, 1))], hbv=True, treatment_start=D0)
        == []
    )
    assert m.warnings([], hbv=False, treatment_start=D0) == []


def test_an_hbv_antiviral_stopped_during_treatment_is_warned():
    stopped = med(7, "Viread", date(2020, 1, 1), date(2026, 4, 1))
    found = m.warnings([stopped], hbv=True, treatment_start=D0)
    assert [(w.code, w.medication) for w in found] == [
        (m.HBV_NO_ANTIVIRAL, None),
        (m.HBV_ANTIVIRAL_STOPPED, 7),
    ]
    # switched to another antiviral that goes on: nothing to warn
    switched = [stopped, med(8, "tenofovir alafenamide", date(2026, 4, 1))]
    assert m.warnings(switched, hbv=True, treatment_start=D0) == []


@pytest.mark.parametrize(
    "condition, hbv",
    [
        ("Chronic hepatitis B", True),
        ("HBV-related cirrhosis", True),
        ("HBsAg positive", True),
        ("Hepatitis C", False),
        ("Hypertension", False),
    ],
)
def test_hepatitis_b_in_the_medical_history(condition, hbv):
    assert m.is_hbv(condition) is hbv


@pytest.mark.parametrize(
    "name, generic",
    [
        ("entecavir", "entecavir"),
        ("Tenofovir disoproxil fumarate", "tenofovir disoproxil"),
        ("Vemlidy", "tenofovir alafenamide"),
        ("lamivudine", "lamivudine"),
        ("adefovir dipivoxil", "adefovir"),
        ("telbivudine", "telbivudine"),
    ],
)
def test_the_nucleos_t_ide_analogues(name, generic):
    assert m.hbv_antiviral(name).name == generic


@pytest.mark.parametrize(
    "code, valid",
    [
        ("J01FA09", True),
        ("J01FA", True),
        ("J01F", True),
        ("J01", True),
        ("J", True),
        ("j01fa09", False),
        ("J01FA9", False),
        ("J1FA09", False),
        ("J01FA09X", False),
    ],
)
def test_atc_codes_at_each_level(code, valid):
    assert m.valid_atc(code) is valid


@pytest.mark.parametrize(
    "text, first, last",
    [
        ("2019", date(2019, 1, 1), date(2019, 12, 31)),
        ("2019-02", date(2019, 2, 1), date(2019, 2, 28)),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29)),
        ("2019-12", date(2019, 12, 1), date(2019, 12, 31)),
        ("2019-03-14", date(2019, 3, 14), date(2019, 3, 14)),
    ],
)
def test_partial_dates_as_cdisc_keeps_them(text, first, last):
    assert m.date_range(text) == (first, last)


@pytest.mark.parametrize("text", ["", "19", "2019-13", "2019-02-30", "14/03/2019", "2019-3"])
def test_what_is_not_a_partial_date(text):
    with pytest.raises(m.PartialDateError):
        m.date_range(text)


def test_a_condition_start_is_neither_in_the_future_nor_before_birth():
    born, today = date(1960, 6, 15), date(2026, 3, 1)
    assert m.partial_date_problems("1960", born=born, today=today) == []  # may be after birth
    assert m.partial_date_problems("1959", born=born, today=today) == [
        "Before the patient's birth."
    ]
    assert m.partial_date_problems("2026", born=born, today=today) == []
    assert m.partial_date_problems("2026-04", born=born, today=today) == ["In the future."]


def test_medication_dates_stop_xor_ongoing_in_order():
    born, today = date(1960, 1, 1), date(2026, 3, 1)
    ok = dict(born=born, today=today)
    assert m.medication_problems(start=date(2026, 1, 1), stop=None, ongoing=True, **ok) == {}
    assert "stop_date" in m.medication_problems(
        start=date(2026, 1, 1), stop=None, ongoing=False, **ok
    )
    assert "stop_date" in m.medication_problems(
        start=date(2026, 1, 1), stop=date(2026, 2, 1), ongoing=True, **ok
    )
    assert m.medication_problems(
        start=date(2026, 2, 1), stop=date(2026, 1, 1), ongoing=False, **ok
    ) == {"stop_date": ["Before the start date."]}
    assert m.medication_problems(start=date(2026, 4, 1), stop=None, ongoing=True, **ok) == {
        "start_date": ["In the future."]
    }
    assert m.medication_problems(start=date(1950, 1, 1), stop=None, ongoing=True, **ok) == {
        "start_date": ["Before the patient's birth."]
    }
    assert "atc_code" in m.medication_problems(
        start=date(2026, 1, 1), stop=None, ongoing=True, atc="J1", **ok
    )


# Systemic corticosteroids near the PD-1 antibody (Liu et al. 2013, table 1 equivalents)
@pytest.mark.parametrize(
    "name, dose, unit, frequency, route, prednisone",
    [
        ("Prednisone", 20, "mg", "once daily", "oral", 20.0),
        ("Dexamethasone", 4, "mg", "BID", "oral", 4 * 2 * 5 / 0.75),
        ("Methylprednisolone", 40, "mg", "q24h", "intravenous", 50.0),
        ("Hydrocortisone", 20, "mg", "TID", "oral", 15.0),
        ("Prednisolone", 5, "mg", "daily", "oral", 5.0),
        ("Betamethasone", 600, "ug", "daily", "intramuscular", 5.0),
    ],
)
def test_prednisone_equivalent_daily_doses(name, dose, unit, frequency, route, prednisone):
    found = m.prednisone_mg_day(name, dose=dose, unit=unit, frequency=frequency, route=route)
    assert found == pytest.approx(prednisone)


@pytest.mark.parametrize(
    "name, frequency, route",
    [
        ("Budesonide", "BID", "inhaled"),  # not a systemic corticosteroid here
        ("Prednisone", "BID", "topical"),
        ("Prednisone", "as needed", "oral"),  # a frequency that cannot be read
        ("Paracetamol", "QID", "oral"),
    ],
)
def test_no_prednisone_equivalent(name, frequency, route):
    assert m.prednisone_mg_day(name, dose=20, unit="mg", frequency=frequency, route=route) is None


def test_more_than_10_mg_prednisone_within_14_days_of_treatment_is_warned():
    def steroid(stop, dose=20):
        return m.Medication(
            key=3,
            name="Prednisone",
            start=date(2026, 1, 1),
            stop=stop,
            route="oral",
            dose=dose,
            unit="mg",
            frequency="once daily",
        )

    def codes(medication, start=D0):
        return [w.code for w in m.warnings([medication], hbv=False, treatment_start=start)]

    assert codes(steroid(date(2026, 2, 20))) == [m.CORTICOSTEROID]  # 9 days before day 0
    assert codes(steroid(date(2026, 2, 10))) == []  # 19 days before
    assert codes(steroid(None, dose=10)) == []  # 10 mg/day is not above 10
    assert codes(steroid(None), start=None) == [m.CORTICOSTEROID]  # ongoing before day 0
