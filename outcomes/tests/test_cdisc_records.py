"""The package's datasets made from the records (ADaM ADAE, SDTM DS, QS, LB, TU, TR, RS), read
back with pandas' own SAS transport reader: the safety tables' treatment-emergent counts, the
keys, and nothing of the arms for a masked statistician."""

from collections import Counter

from outcomes.tests.test_cdisc import package, read_xpt, trial_run  # noqa: F401 (fixture)
from safety.selectors import safety_table


def teae_counts(adae, table) -> tuple[dict, dict]:
    """(patients per summary row and arm, worst grades per term and arm) from ADAE, as the
    safety table shows them."""
    emergent = adae[(adae["TRTEMFL"] == "Y") & (adae["SAFFL"] == "Y")]
    summary = {
        "any": emergent,
        "grade3": emergent[emergent["ATOXGRN"] >= 3],
        "serious": emergent[emergent["AESER"] == "Y"],
        "fatal": emergent[emergent["ATOXGRN"] == 5],
    }
    patients = {
        key: {arm: frame[frame["ARM"] == arm]["USUBJID"].nunique() for arm in table.arms}
        for key, frame in summary.items()
    }
    worst = Counter(
        (row.AEDECOD, row.ARM, int(row.ATOXGRN))
        for row in emergent[emergent["AOCCPIFL"] == "Y"].itertuples()
    )
    return patients, worst


def table_counts(table) -> tuple[dict, dict]:
    patients = {key: by_arm for key, _label, by_arm in table.summary if key != "discontinuation"}
    worst = Counter()
    for row in table.rows:
        if row.term:
            for arm, count in row.counts.items():
                for grade, n in count.by_worst_grade.items():
                    if n:
                        worst[(row.term, arm, grade)] += n
    return patients, worst


def test_adae_treatment_emergent_counts_are_the_safety_tables(
    trial_run,  # noqa: F811
    api_as,
    trial_users,
    data_manager,
):
    for user in (data_manager, trial_users["statistician"]):
        adae, _ = read_xpt(package(api_as(user), trial_run)["adae.xpt"])
        table = safety_table(user)
        assert (adae["TRTEMFL"] == "Y").sum() > 0
        got_patients, got_worst = teae_counts(adae, table)
        want_patients, want_worst = table_counts(table)
        assert got_worst == want_worst
        if user == data_manager:
            assert got_patients == want_patients
        else:  # the masked summary also counts the infusion-only terms ADAE leaves out
            assert all(
                got_patients[k][arm] <= want_patients[k][arm]
                for k in got_patients
                for arm in table.arms
            )
        assert adae.groupby("USUBJID")["AOCCIFL"].apply(lambda f: (f == "Y").sum()).max() == 1
