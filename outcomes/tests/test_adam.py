"""The ADaM datasets from a run's results (pure): ADaM IG 1.3 and the ADaM time-to-event BDS
(CNSR 0 = event, 1 = censored), the transport v5 limits, masking."""

from datetime import date
from types import SimpleNamespace

import pytest

from outcomes import adam, exports
from outcomes import endpoints as ep
from outcomes.snapshot import Exposure, subject_facts

META = {"computed_at": "2026-06-02T10:00:00+02:00", "software_version": "inkt-trial test"}


def tte(key, arm, param, days, event, start="2026-01-01", end="2026-05-31"):
    return {
        "STUDYID": "NCT05962450",
        "USUBJID": key,
        "ARM": arm,
        "PARAMCD": param,
        "PARAM": param,
        "AVAL": days,
        "AVALM": round(days / 30.4375, 4),
        "AVALU": "DAYS",
        "STARTDT": start,
        "ADT": end,
        "CNSR": 0 if event else 1,
        "EVNTDESC": "death" if event else "",
        "CNSDTDSC": "" if event else "last known alive",
        "DCUTDT": "2026-06-01",
    }


def subject(**changes):
    facts = {
        "age": 61,
        "sex": "M",
        "randomized": "2026-01-01",
        "first_dose": "2026-01-03",
        "last_dose": "2026-04-01",
        "first_shared_dose": "2026-01-05",
        "last_shared_dose": "2026-03-30",
        "end_of_study": None,
        "end_of_study_reason": None,
        "death": None,
        "last_alive": "2026-05-20",
        "new_therapy": None,
        "baseline_scan": True,
    }
    return {**facts, **changes}


@pytest.fixture
def results():
    return {
        "cutoff": "2026-06-01",
        "arms": ["RPI", "RP"],
        "arm_codes": {"P-001": "A", "P-002": "B", "P-003": "B"},
        "adtte": [
            tte("P-001", "RPI", "OS", 150, True),
            tte("P-001", "RPI", "PFS", 56, False, start="2026-01-01", end="2026-02-26"),
            tte("P-002", "RP", "OS", 100, False, start="2026-02-01", end="2026-05-12"),
            tte("P-003", "RP", "OS", 20, False, start="2026-05-01", end="2026-05-21"),
        ],
        "responses": [
            {"USUBJID": "P-001", "ARM": "RPI", "CRITERION": "iRECIST", "ADT": "2026-02-26",
             "RESPONSE": "iSD"},
            {"USUBJID": "P-001", "ARM": "RPI", "CRITERION": "iRECIST", "ADT": "2026-04-23",
             "RESPONSE": "iUPD"},
            {"USUBJID": "P-001", "ARM": "RPI", "CRITERION": "iRECIST", "ADT": "2026-04-23",
             "RESPONSE": "iUPD unconfirmed", "UNCONFIRMED": True},
            {"USUBJID": "P-001", "ARM": "RPI", "CRITERION": "iRECIST", "ADT": "2026-05-20",
             "RESPONSE": "iUPD", "OUTSIDE_BOR": True},
            {"USUBJID": "P-001", "ARM": "RPI", "CRITERION": "iRECIST", "ADT": "",
             "RESPONSE": "iSD", "BEST": True},
            {"USUBJID": "P-001", "ARM": "RPI", "CRITERION": "mRECIST", "ADT": "",
             "RESPONSE": "SD", "BEST": True},
        ],
        "qol": {
            "P-001": {
                "QL2": [["2025-12-30", 50.0], ["2026-01-01", 58.3], ["2026-02-26", 41.7]],
                "FA": [["2026-01-01", None], ["2026-02-26", 33.3]],
            },
        },
        "subjects": {
            "P-001": subject(
                death="2026-05-31", end_of_study="2026-05-31", end_of_study_reason="death"
            ),
            "P-002": subject(
                sex="F", end_of_study="2026-05-30", end_of_study_reason="study_end"
            ),
            "P-003": subject(
                first_dose=None, last_dose=None, first_shared_dose=None, last_shared_dose=None,
                baseline_scan=False,
            ),
        },
    }  # fmt: skip


def by_key(dataset):
    return {tuple(row[k] for k in dataset.keys): row for row in dataset.rows}


def test_every_variable_within_the_transport_v5_limits():
    for variables in (adam.ADSL_VARIABLES, adam.ADTTE_VARIABLES, adam.ADRS_VARIABLES):
        for v in variables:
            assert len(v.name) <= 8 and v.name.isupper() and 0 < len(v.label) <= 40
            assert v.type in ("Char", "Num") and (not v.format or v.type == "Num")
    with pytest.raises(ValueError):
        adam.Variable("TOOLONGNAME", "Label")
    with pytest.raises(ValueError):
        adam.Variable("X", "A label of more than forty characters, too long")


def test_adsl_one_row_per_patient_with_status_flags_and_dates(results):
    adsl = by_key(adam.adsl(results, masked=False))
    died, completed, untreated = adsl[("P-001",)], adsl[("P-002",)], adsl[("P-003",)]
    assert (died["ARM"], died["ARMCD"], died["TRT01P"], died["TRT01A"]) == ("RPI",) * 4
    assert (died["DTHFL"], died["DTHDT"]) == ("Y", date(2026, 5, 31))
    assert (died["EOSSTT"], died["DCSREAS"], died["EOSDT"]) == (
        "DISCONTINUED",
        "DEATH",
        date(2026, 5, 31),
    )
    assert (completed["EOSSTT"], completed["SEX"], completed["DTHFL"]) == ("COMPLETED", "F", "")
    assert (untreated["EOSSTT"], untreated["DCSREAS"]) == ("ONGOING", "")
    assert died["TRTSDT"] == date(2026, 1, 3) and died["TRTEDT"] == date(2026, 4, 1)
    assert (untreated["SAFFL"], untreated["TRT01A"], untreated["TRTSDT"]) == ("N", "", None)
    assert (untreated["EFFFL"], died["EFFFL"], died["SAFFL"]) == ("N", "Y", "Y")
    assert {row["ITTFL"] for row in adsl.values()} == {"Y"}
    assert died["RANDDT"] == date(2026, 1, 1) and died["AGE"] == 61
    assert died["DCUTDT"] == date(2026, 6, 1) and died["AGEU"] == "YEARS"


def test_a_masked_reader_gets_codes_and_the_shared_drugs_dates(results):
    adsl = by_key(adam.adsl(results, masked=True))
    row = adsl[("P-001",)]
    assert (row["ARM"], row["ARMCD"], row["TRT01P"], row["TRT01A"]) == ("A",) * 4
    # the iNKT infusions are the RPI arm's alone: a masked reader sees the shared drugs' dates
    assert (row["TRTSDT"], row["TRTEDT"]) == (date(2026, 1, 5), date(2026, 3, 30))
    for dataset in adam.datasets(results, masked=True, meta=META):
        for record in dataset.rows:
            assert "RPI" not in str(record.values()) and "'RP'" not in str(record.values())


def test_a_run_stored_before_the_subject_facts_still_gives_adsl(results):
    del results["subjects"]
    adsl = by_key(adam.adsl(results, masked=False))
    assert adsl[("P-001",)]["DTHDT"] == date(2026, 5, 31)  # the OS event
    assert adsl[("P-002",)]["RANDDT"] == date(2026, 2, 1) and adsl[("P-002",)]["DTHFL"] == ""
    assert adsl[("P-002",)]["ITTFL"] == "Y" and adsl[("P-002",)]["SAFFL"] == ""
    assert adsl[("P-001",)]["EOSSTT"] == "" and adsl[("P-001",)]["AGE"] is None  # not known
    assert adam.problems(adam.adsl(results, masked=False)) == []


def test_adtte_is_the_export_with_dates_as_dates_and_cnsr_the_adam_way(results):
    for masked in (False, True):
        dataset = adam.adtte(results, masked=masked, meta=META)
        export = exports.rows(results, "adtte", masked=masked, meta=META)
        assert len(dataset.rows) == len(export)
        for row, mine in zip(export, dataset.rows, strict=True):
            for name, value in row.items():
                got = mine[name]
                assert (got.isoformat() if hasattr(got, "isoformat") else got) == (
                    value if name != "COMPDTM" else "2026-06-02T08:00:00"
                ), name
            assert mine["TRT01P"] == row["ARM"]
    rows = by_key(adam.adtte(results, masked=False, meta=META))
    assert rows[("P-001", "OS")]["CNSR"] == 0 and rows[("P-002", "OS")]["CNSR"] == 1
    assert rows[("P-002", "OS")]["CNSDTDSC"] == "last known alive"


def test_adrs_timepoints_best_and_the_unconfirmed_iupd_apart(results):
    adrs = adam.adrs(results, masked=False)
    assert adam.problems(adrs) == []
    rows = by_key(adrs)
    assert rows[("P-001", "OVRI", date(2026, 4, 23))]["AVALC"] == "iUPD"
    assert rows[("P-001", "IUPDUNC", date(2026, 4, 23))]["AVALC"] == "iUPD unconfirmed"
    assert rows[("P-001", "OVRI", date(2026, 2, 26))]["ANL01FL"] == "Y"
    assert rows[("P-001", "OVRI", date(2026, 5, 20))]["ANL01FL"] == ""  # after 24 months etc.
    best = rows[("P-001", "BORI", None)]
    assert (best["AVALC"], best["PARCAT1"], best["ANL01FL"]) == ("iSD", "iRECIST", "")
    assert rows[("P-001", "BORM", None)]["AVALC"] == "SD"
    assert all(len(row["PARAMCD"]) <= 8 for row in adrs.rows)


def test_problems_names_a_duplicate_key_and_a_long_value(results):
    adsl = adam.adsl(results, masked=False)
    adsl.rows.append(dict(adsl.rows[0]))
    adsl.rows[0]["DCSREAS"] = "x" * 201
    found = " ".join(adam.problems(adsl))
    assert "not unique" in found and "over 200" in found


def test_subject_facts_age_in_completed_years_and_an_open_period_has_no_last_dose():
    patient = ep.Patient("P-009", "RP", date(2026, 3, 10), True, {}, last_alive=date(2026, 5, 1))
    screening = SimpleNamespace(
        date_of_birth=date(1960, 3, 11), sex="F", consent_date=date(2026, 2, 20)
    )
    doses = Exposure()
    doses.infusions(date(2026, 3, 12), date(2026, 4, 9))
    doses.drug("period", date(2026, 3, 14), None, date(2026, 6, 1))
    facts = subject_facts(patient, screening, doses, [(date(2026, 4, 2), "withdrawal_treatment")])
    assert facts["age"] == 65  # the birthday falls the day after randomization
    assert (facts["first_dose"], facts["last_dose"]) == ("2026-03-12", None)
    assert facts["first_shared_dose"] == "2026-03-14"
    assert facts["end_of_study"] is None  # a withdrawal from treatment alone: follow-up goes on
    closed = Exposure()
    closed.drug("administration", date(2026, 3, 14), None, date(2026, 6, 1))
    closed.drug("period", date(2026, 3, 20), date(2026, 4, 17), date(2026, 6, 1))
    facts = subject_facts(patient, screening, closed, [(date(2026, 5, 2), "lost")])
    assert (facts["last_dose"], facts["end_of_study_reason"]) == ("2026-04-17", "lost")


def test_adqs_baseline_the_last_score_on_or_before_randomization_and_the_change(results):
    adqs = adam.adqs(results, masked=True)
    assert adam.problems(adqs) == []
    rows = by_key(adqs)
    earlier = rows[("P-001", "QL2", date(2025, 12, 30))]
    baseline = rows[("P-001", "QL2", date(2026, 1, 1))]  # the day of randomization
    after = rows[("P-001", "QL2", date(2026, 2, 26))]
    assert (earlier["ABLFL"], baseline["ABLFL"], after["ABLFL"]) == ("", "Y", "")
    assert (earlier["CHG"], baseline["CHG"], after["CHG"]) == (None, None, pytest.approx(-16.6))
    assert after["BASE"] == 58.3 and after["ARM"] == "A" and after["PARAM"].startswith("QLQ-C30")
    fatigue = rows[("P-001", "FA", date(2026, 2, 26))]  # unscored at baseline: no baseline
    assert (fatigue["BASE"], fatigue["CHG"]) == (None, None) and len(adqs.rows) == 4
    del results["qol"]  # a run stored before the scores: no ADQS
    assert adam.adqs(results, masked=False) is None
    assert [d.name for d in adam.datasets(results, masked=False, meta=META)] == [
        "ADSL",
        "ADTTE",
        "ADRS",
    ]


def test_qol_results_are_json_ready():
    patient = ep.Patient(
        "P-009", "RP", date(2026, 3, 10), True, {}, qol={"QL2": ((date(2026, 3, 9), 50.0),)}
    )
    assert adam.qol_results([patient]) == {"P-009": {"QL2": [["2026-03-09", 50.0]]}}


def test_a_masked_reader_s_safety_population_is_dosed_with_a_drug_both_arms_receive(results):
    """A patient given an iNKT course and nothing else yet: in the safety population for an
    unmasked reader; for a masked one SAFFL = Y with a blank TRTSDT would name the arm."""
    results["subjects"]["P-002"] = subject(first_shared_dose=None, last_shared_dose=None)
    unmasked = by_key(adam.adsl(results, masked=False))[("P-002",)]
    masked = by_key(adam.adsl(results, masked=True))[("P-002",)]
    assert (unmasked["SAFFL"], unmasked["TRT01A"], unmasked["TRTSDT"]) == (
        "Y", "RP", date(2026, 1, 3)
    )  # fmt: skip
    assert (masked["SAFFL"], masked["TRT01A"], masked["TRTSDT"]) == ("N", "", None)
