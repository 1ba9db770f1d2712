"""The package's datasets made from the records (ADaM ADAE, SDTM DS, QS, LB, TU, TR, RS), read
back with pandas' own SAS transport reader: the safety tables' treatment-emergent counts, the
keys, and nothing of the arms for a masked statistician."""

from collections import Counter

from outcomes.tests.test_cdisc import (  # noqa: F401 (fixture)
    package,
    read_xpt,
    sas_date,
    trial_run,
)
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


def test_ds_qs_lb_read_back_with_the_records(trial_run, api_as, trial_users, data_manager):  # noqa: F811
    files = package(api_as(data_manager), trial_run)
    adsl, _ = read_xpt(files["adsl.xpt"])
    ds, _ = read_xpt(files["ds.xpt"])
    randomized = ds[ds["DSDECOD"] == "RANDOMIZED"]
    assert sorted(randomized["USUBJID"]) == sorted(adsl["USUBJID"])
    ended = ds[ds["DSSCAT"] == "END OF STUDY"]
    assert set(ended["USUBJID"]) == set(
        adsl[adsl["EOSSTT"].isin(["COMPLETED", "DISCONTINUED"])]["USUBJID"]
    )
    assert "END OF TREATMENT: INKT CELLS" in set(ds["DSSCAT"])
    qs, _ = read_xpt(files["qs.xpt"])
    assert set(qs["QSTESTCD"]) == {f"Q{i:02d}" for i in range(1, 31)}
    answered = qs[qs["QSSTAT"] != "NOT DONE"]
    assert answered["QSSTRESN"].between(1, 7).all() and 0 in set(qs["VISITNUM"])
    lb, _ = read_xpt(files["lb.xpt"])
    assert set(lb["LBTESTCD"]) == {"ALT", "BILI", "PLAT"} and "COURSE 1" in set(lb["VISIT"])
    bili = lb[lb["LBTESTCD"] == "BILI"]
    assert set(bili["LBORRESU"]) == {"mg/dL"} and set(bili["LBSTRESU"]) == {"umol/L"}
    assert (bili["LBSTRESN"] - 17.1).abs().max() < 1e-9
    alt = lb[lb["LBTESTCD"] == "ALT"]
    assert set(alt["LBNRIND"]) == {"HIGH"} and set(alt["LBTOXGR"]) == {"2"}  # 3.25 x ULN


def test_a_masked_statistician_sees_no_arm_in_the_records_datasets(trial_run, api_as, trial_users):  # noqa: F811
    files = package(api_as(trial_users["statistician"]), trial_run)
    for name in ("adae", "ds", "qs", "lb"):
        text = files[f"{name}.csv"].decode()
        assert "RPI" not in text and "INKT CELLS" not in text.upper(), name
        assert "iNKT" not in text and "COURSE" not in text, name
    adae, _ = read_xpt(files["adae.xpt"])
    assert set(adae["ARM"]) <= {"A", "B"} and "AERELI" not in adae.columns
    lb, _ = read_xpt(files["lb.xpt"])
    assert len(lb) == 7 and "UNSCHEDULED" in set(lb["VISIT"])
    ds, _ = read_xpt(files["ds.xpt"])
    assert not ds["DSSCAT"].str.contains("INKT").any()


def test_tu_tr_rs_are_the_accepted_series_as_adrs(trial_run, api_as, data_manager):  # noqa: F811
    files = package(api_as(data_manager), trial_run)
    rs, _ = read_xpt(files["rs.xpt"])
    adrs, _ = read_xpt(files["adrs.xpt"])
    overall = rs[rs["RSTESTCD"] == "OVRLRESP"]
    got = {(r.USUBJID, r.RSCAT, r.RSDTC, r.RSORRES) for r in overall.itertuples()}
    timepoints = adrs[adrs["PARAMCD"].isin(["OVRM", "OVRI"])]
    want = {(r.USUBJID, r.PARCAT1, sas_date(r.ADT), r.AVALC) for r in timepoints.itertuples()}
    assert got == want and got
    tu, _ = read_xpt(files["tu.xpt"])
    tr, _ = read_xpt(files["tr.xpt"])
    assert set(tu["TUORRES"]) >= {"TARGET"} and set(tr["TRTESTCD"]) >= {"LDIAM"}
    linked = set(zip(tr["USUBJID"], tr["TRLNKID"], strict=True))
    assert linked <= set(zip(tu["USUBJID"], tu["TULNKID"], strict=True))


def test_suppae_holds_the_narrative_for_an_unmasked_reader_only(
    trial_run,  # noqa: F811
    api_as,
    trial_users,
    data_manager,
):
    files = package(api_as(data_manager), trial_run)
    supp, _ = read_xpt(files["suppae.xpt"])
    ae, _ = read_xpt(files["ae.xpt"])
    assert list(supp["QNAM"]) == ["AENARR", "AENARR1"] and supp["QVAL"].map(len).max() <= 200
    seq = int(supp["IDVARVAL"].iloc[0])
    assert seq in set(ae[ae["USUBJID"] == supp["USUBJID"].iloc[0]]["AESEQ"])
    masked = package(api_as(trial_users["statistician"]), trial_run)
    assert "suppae.xpt" not in masked
