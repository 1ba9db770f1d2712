"""Release specification and bedside check of the iNKT product (dosing.chain): each criterion
at, just inside and just outside its limit."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from dosing import chain, protocol
from dosing.chain import Assay, AssayResult, BagLabel, BatchState

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
BORN = date(1958, 4, 2)


def passing(**overrides):
    results = {
        Assay.STERILITY: AssayResult(Assay.STERILITY, passed=True),
        Assay.MYCOPLASMA: AssayResult(Assay.MYCOPLASMA, passed=True),
        Assay.ENDOTOXIN: AssayResult(Assay.ENDOTOXIN, value=Decimal("0.5")),
        Assay.VIABILITY: AssayResult(Assay.VIABILITY, value=Decimal(85)),
        Assay.PURITY: AssayResult(Assay.PURITY, value=Decimal(95)),
    }
    results.update(overrides)
    return [r for r in results.values() if r is not None]


def problems(results, expires_at=NOW + timedelta(days=2), at=NOW):
    return chain.release_problems(
        results, expires_at=expires_at, at=at, volume_ml=100, weight_kg=64
    )


def test_all_tests_passing_and_not_expired_is_releasable():
    assert problems(passing()) == []


def test_growth_in_sterility_fails():
    found = problems(passing(**{Assay.STERILITY: AssayResult(Assay.STERILITY, passed=False)}))
    assert found == ["Sterility failed (growth detected)."]


def test_mycoplasma_detected_fails():
    found = problems(passing(**{Assay.MYCOPLASMA: AssayResult(Assay.MYCOPLASMA, passed=False)}))
    assert found == ["Mycoplasma failed (mycoplasma detected)."]


def test_a_missing_test_stops_the_release():
    assert problems(passing(**{Assay.VIABILITY: None})) == ["Viability: not tested."]


def test_a_pass_fail_test_without_its_result_stops_the_release():
    assert problems(passing(**{Assay.STERILITY: AssayResult(Assay.STERILITY)})) == [
        "Sterility: no result."
    ]


def test_endotoxin_dose_is_eu_per_ml_times_volume_over_weight():
    # 3.2 EU/mL x 100 mL / 64 kg = 5.00 EU/kg: at the limit K = 5 EU/kg, passes
    assert chain.endotoxin_eu_per_kg(eu_per_ml="3.2", volume_ml=100, weight_kg=64) == Decimal(
        "5.00"
    )
    at_limit = AssayResult(Assay.ENDOTOXIN, value=Decimal("3.2"))
    assert chain.passes(at_limit, volume_ml=100, weight_kg=64)


def test_endotoxin_above_5_eu_per_kg_fails():
    # 3.3 x 100 / 64 = 5.16 EU/kg
    above = AssayResult(Assay.ENDOTOXIN, value=Decimal("3.3"))
    assert chain.assay_problem(above, volume_ml=100, weight_kg=64) == (
        "Endotoxin 3.3 EU/mL x 100 mL / 64 kg = 5.16 EU/kg, above the limit of 5 EU/kg."
    )


def test_endotoxin_passing_for_a_heavy_patient_fails_for_a_light_one():
    result = AssayResult(Assay.ENDOTOXIN, value=Decimal(2))  # 200 EU in a 100 mL bag
    assert chain.passes(result, volume_ml=100, weight_kg=80)  # 2.5 EU/kg
    assert not chain.passes(result, volume_ml=100, weight_kg=38)  # 5.26 EU/kg


def test_endotoxin_cannot_be_judged_without_volume_and_weight():
    result = AssayResult(Assay.ENDOTOXIN, value=Decimal("0.1"))
    assert "needed" in chain.assay_problem(result)


def test_viability_70_percent_passes_69_9_fails():
    assert chain.passes(AssayResult(Assay.VIABILITY, value=Decimal(70)))
    assert chain.assay_problem(AssayResult(Assay.VIABILITY, value=Decimal("69.9"))) == (
        "Viability 69.9 % is below 70 %."
    )


def test_purity_against_the_trial_threshold():
    threshold = Decimal(protocol.INKT_PURITY_MIN_PERCENT)
    assert chain.passes(AssayResult(Assay.PURITY, value=threshold))
    assert not chain.passes(AssayResult(Assay.PURITY, value=threshold - Decimal("0.1")))
    assert chain.passes(AssayResult(Assay.PURITY, value=Decimal(75)), purity_min=70)


def test_a_measured_test_without_value_fails():
    assert chain.assay_problem(AssayResult(Assay.PURITY)) == "iNKT purity: no value."


def test_an_expired_batch_is_not_releasable():
    found = problems(passing(), expires_at=NOW)
    assert found == ["The batch expired on 2026-03-10 10:00."]
    assert problems(passing(), expires_at=NOW + timedelta(minutes=1)) == []


def test_several_failures_are_all_listed_in_a_fixed_order():
    found = problems(
        passing(
            **{
                Assay.STERILITY: AssayResult(Assay.STERILITY, passed=False),
                Assay.PURITY: AssayResult(Assay.PURITY, value=Decimal(10)),
            }
        ),
        expires_at=NOW - timedelta(days=1),
    )
    assert [p.split(" ")[0] for p in found] == ["Sterility", "iNKT", "The"]


# -- the bedside check ------------------------------------------------------------------------

BATCH = BatchState(
    batch_number="INKT-B-0042",
    study_id="INKT-001",
    released_at=NOW - timedelta(days=1),
    expires_at=NOW + timedelta(days=1),
    cells_total=10**9,
)
LABEL = BagLabel(study_id="INKT-001", date_of_birth=BORN, batch_number="INKT-B-0042")


def check(label=LABEL, batch=BATCH, dose=864_100_000, infused=None, at=NOW):
    return chain.bedside_mismatches(
        label=label,
        study_id="INKT-001",
        date_of_birth=BORN,
        batch=batch,
        infused_at=at,
        computed_dose_cells=dose,
        cells_infused=infused,
    )


def test_matching_bag_passes():
    assert check() == []


def test_study_id_is_compared_without_case_or_spaces():
    assert check(label=BagLabel(" inkt-001 ", BORN, "INKT-B-0042")) == []


def test_bag_of_another_patient_is_refused():
    found = check(label=BagLabel("INKT-002", BORN, "INKT-B-0042"))
    assert found == [
        ("bag_study_id", "The bag is labelled for INKT-002, not for this patient (INKT-001).")
    ]


def test_wrong_date_of_birth_is_refused():
    found = check(label=BagLabel("INKT-001", date(1958, 2, 4), "INKT-B-0042"))
    assert [m.field for m in found] == ["bag_date_of_birth"]


def test_unknown_batch_is_refused():
    found = check(batch=None)
    assert found == [("batch_number", "No batch INKT-B-0042 is recorded.")]


def test_batch_of_another_patient_is_refused():
    other = BatchState(**{**BATCH.__dict__, "study_id": "INKT-002"})
    assert check(batch=other) == [
        ("batch_number", "Batch INKT-B-0042 was made from another patient's apheresis.")
    ]


def test_unreleased_batch_is_refused():
    unreleased = BatchState(**{**BATCH.__dict__, "released_at": None})
    assert check(batch=unreleased) == [("batch_number", "Batch INKT-B-0042 is not released.")]


def test_batch_released_after_the_infusion_is_refused():
    late = BatchState(**{**BATCH.__dict__, "released_at": NOW + timedelta(hours=1)})
    assert "after the infusion" in check(batch=late)[0].text


def test_expiry_is_checked_against_the_infusion_time():
    assert "expired" in check(at=BATCH.expires_at)[0].text
    assert check(at=BATCH.expires_at - timedelta(minutes=1)) == []


def test_a_release_test_failing_since_the_release_is_refused():
    failed = BatchState(**{**BATCH.__dict__, "release_problems": ("Sterility failed.",)})
    assert check(batch=failed) == [("batch_number", "Batch INKT-B-0042: Sterility failed.")]


def test_a_bag_already_infused_is_refused():
    used = BatchState(**{**BATCH.__dict__, "infused_in_course": 1})
    assert check(batch=used)[0].text == "Batch INKT-B-0042 was already infused (course 1)."


def test_bag_with_fewer_cells_than_the_computed_dose_is_refused():
    assert check(dose=10**9) == []  # exactly the dose
    assert check(dose=10**9 + 1) == [
        (
            "batch_number",
            "The bag holds 1,000,000,000 cells, fewer than the computed dose (1,000,000,001).",
        )
    ]


def test_more_cells_infused_than_the_bag_holds_is_refused():
    assert [m.field for m in check(infused=2 * 10**9)] == ["cells_infused"]


def test_every_mismatch_is_listed():
    found = check(label=BagLabel("INKT-009", None, "INKT-B-0042"), dose=2 * 10**9)
    assert [m.field for m in found] == ["bag_study_id", "bag_date_of_birth", "batch_number"]


@pytest.mark.parametrize("weight", [0, -1])
def test_endotoxin_dose_refuses_a_weight_that_is_not_positive(weight):
    with pytest.raises(ValueError):
        chain.endotoxin_eu_per_kg(eu_per_ml=1, volume_ml=1, weight_kg=weight)
