"""The cell product's chain of identity through the services: apheresis, batches, release
tests, the investigator's release, and the bedside check that refuses a course (dosing.chain)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from datamanagement import services as datamanagement
from dosing import services
from dosing.fixtures import PASSING, released_bag
from dosing.models import Infusion
from dosing.tests.test_services import TARGET, at
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture
def rpi(randomized, coordinator):
    patient = randomized("RPI", days_ago=30)
    services.schedule_create(
        patient=patient,
        by=coordinator,
        first_planned_date=at(14).date(),
        target_cells_per_m2=TARGET,
    )
    return patient


@pytest.fixture
def apheresis(rpi, coordinator):
    return services.apheresis_record(
        patient=rpi, by=coordinator, date=at(28).date(), volume_ml=Decimal("180.0")
    )


def make_batch(apheresis, by, number="INKT-B-0042", **changes):
    return services.batch_record(
        apheresis=apheresis,
        by=by,
        **{
            "batch_number": number,
            "manufactured_on": apheresis.date + timedelta(days=7),
            "expires_at": at(0) + timedelta(days=20),
            "cells_total": 2 * 10**9,
            "volume_ml": Decimal("100.0"),
            **changes,
        },
    )


def record_release_tests(batch, by, skip=(), **overrides):
    for assay, result in PASSING.items():
        if assay in skip:
            continue
        services.release_test_record(
            batch=batch,
            by=by,
            assay=assay.value,
            tested_on=batch.manufactured_on,
            **overrides.get(assay.value, result),
        )


@pytest.fixture
def released(apheresis, coordinator, investigator):
    batch = make_batch(apheresis, coordinator)
    record_release_tests(batch, coordinator)
    return services.batch_release(batch=batch, by=investigator, released_at=at(16))


def give(patient, by, batch_number="INKT-B-0042", days_ago=14, **changes):
    return services.infusion_record(
        patient=patient,
        by=by,
        **{
            "infused_at": at(days_ago),
            "weight_kg": Decimal("64.0"),
            "target_cells_per_m2": TARGET,
            "cells_infused": 864_100_000,
            "batch_number": batch_number,
            "bag_study_id": patient.study_id,
            "bag_date_of_birth": patient.screening.date_of_birth,
            **changes,
        },
    )


# -- apheresis and batches -------------------------------------------------------------------


def test_the_rp_arm_has_no_apheresis(randomized, coordinator):
    rp = randomized("RP", days_ago=10)
    with pytest.raises(DomainError, match="RP arm, which receives no iNKT cells"):
        services.apheresis_record(patient=rp, by=coordinator, date=at(1).date(), volume_ml=150)


def test_apheresis_neither_before_randomization_nor_in_the_future(rpi, coordinator):
    for day, text in ((at(31).date(), "before randomization"), (at(-1).date(), "future")):
        with pytest.raises(DomainError) as refused:
            services.apheresis_record(patient=rpi, by=coordinator, date=day, volume_ml=150)
        assert text in str(refused.value.field_errors["date"])


def test_apheresis_correction_needs_a_reason_and_is_audited(apheresis, coordinator):
    with pytest.raises(DomainError, match="reason"):
        services.apheresis_correct(apheresis=apheresis, by=coordinator, reason="", volume_ml=170)
    fixed = services.apheresis_correct(
        apheresis=apheresis, by=coordinator, reason="Volume per the unit's sheet", volume_ml=170
    )
    assert fixed.volume_ml == 170
    assert history_of(fixed)[0]["reason"] == "Volume per the unit's sheet"


def test_batch_number_is_unique_whatever_its_case(apheresis, coordinator):
    make_batch(apheresis, coordinator)
    with pytest.raises(DomainError) as refused:
        make_batch(apheresis, coordinator, number=" inkt-b-0042 ")
    assert refused.value.field_errors == {
        "batch_number": ["Batch inkt-b-0042 is already recorded."]
    }


def test_batch_dates_follow_the_apheresis(apheresis, coordinator):
    with pytest.raises(DomainError) as refused:
        make_batch(
            apheresis,
            coordinator,
            manufactured_on=apheresis.date - timedelta(days=1),
            expires_at=at(40),
        )
    errors = refused.value.field_errors
    assert "before the apheresis" in errors["manufactured_on"][0]
    assert errors["expires_at"] == ["Must be after the day of manufacture."]


def test_apheresis_cannot_move_after_its_batches(apheresis, coordinator):
    make_batch(apheresis, coordinator)
    with pytest.raises(DomainError, match="correction was refused") as refused:
        services.apheresis_correct(
            apheresis=apheresis, by=coordinator, reason="Typo", date=at(10).date()
        )
    assert "INKT-B-0042 was manufactured from it" in str(refused.value.field_errors)


# -- release tests and the release -------------------------------------------------------------


def test_release_tests_are_judged_when_recorded(apheresis, coordinator):
    batch = make_batch(apheresis, coordinator)
    viability = services.release_test_record(
        batch=batch, by=coordinator, assay="viability", value=Decimal("65"), tested_on=at(20).date()
    )
    assert (viability.passed, viability.unit) == (False, "%")
    sterility = services.release_test_record(
        batch=batch, by=coordinator, assay="sterility", result_passed=True, tested_on=at(20).date()
    )
    assert sterility.passed and sterility.value is None
    with pytest.raises(DomainError, match="Already recorded"):
        services.release_test_record(
            batch=batch,
            by=coordinator,
            assay="sterility",
            result_passed=True,
            tested_on=at(20).date(),
        )
    with pytest.raises(DomainError) as refused:
        services.release_test_record(
            batch=batch, by=coordinator, assay="mycoplasma", tested_on=at(20).date()
        )
    assert "result_passed" in refused.value.field_errors
    with pytest.raises(DomainError) as refused:
        services.release_test_record(
            batch=batch, by=coordinator, assay="inkt_purity", value=140, tested_on=at(20).date()
        )
    assert refused.value.field_errors == {"value": ["Between 0 and 100 %."]}


def test_a_retest_is_a_correction_with_its_reason(apheresis, coordinator):
    batch = make_batch(apheresis, coordinator)
    viability = services.release_test_record(
        batch=batch, by=coordinator, assay="viability", value=Decimal("65"), tested_on=at(20).date()
    )
    with pytest.raises(DomainError, match="reason"):
        services.release_test_correct(release_test=viability, by=coordinator, reason="", value=80)
    fixed = services.release_test_correct(
        release_test=viability, by=coordinator, reason="Retest, counting error", value=80
    )
    assert fixed.passed
    assert history_of(fixed)[0]["reason"] == "Retest, counting error"


def test_release_needs_every_test_passing(apheresis, coordinator, investigator):
    batch = make_batch(apheresis, coordinator)
    record_release_tests(
        batch, coordinator, skip={"mycoplasma"}, viability={"value": Decimal("60")}
    )
    with pytest.raises(DomainError) as refused:
        services.batch_release(batch=batch, by=investigator)
    assert str(refused.value) == (
        "Batch INKT-B-0042 cannot be released: Mycoplasma: not tested. "
        "Viability 60.00 % is below 70 %."
    )
    batch.refresh_from_db()
    assert batch.released_at is None


def test_an_expired_batch_is_not_released(apheresis, coordinator, investigator):
    batch = make_batch(apheresis, coordinator, expires_at=at(15))
    record_release_tests(batch, coordinator)
    with pytest.raises(DomainError, match="expired"):
        services.batch_release(batch=batch, by=investigator)


def test_the_release_is_recorded_once_and_audited(released, investigator):
    assert released.released_by == investigator and released.released_at == at(16)
    assert history_of(released)[0]["reason"] == "Released for infusion"
    with pytest.raises(DomainError, match="was released on"):
        services.batch_release(batch=released, by=investigator)


def test_endotoxin_judged_per_kg_of_the_patient(apheresis, coordinator, investigator):
    batch = make_batch(apheresis, coordinator)  # 100 mL bag; the patient weighs 64 kg
    record_release_tests(batch, coordinator, endotoxin={"value": Decimal("3.3")})  # 5.16 EU/kg
    with pytest.raises(DomainError, match="above the limit of 5 EU/kg"):
        services.batch_release(batch=batch, by=investigator)


# -- the bedside check ---------------------------------------------------------------------------


def test_a_matching_bag_is_infused_and_linked(rpi, coordinator, released):
    course = give(rpi, coordinator)
    assert course.batch == released and course.deviations == []


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"bag_study_id": "INKT-999"}, "bag_study_id", "labelled for INKT-999"),
        ({"bag_date_of_birth": "shift"}, "bag_date_of_birth", "date of birth on the bag"),
        ({"batch_number": "INKT-B-9999"}, "batch_number", "No batch INKT-B-9999"),
        (
            {"weight_kg": Decimal("130.0"), "target_cells_per_m2": 10**9},
            "batch_number",
            "fewer than the computed dose",
        ),
        ({"bag_study_id": ""}, "bag_study_id", "Required"),
    ],
)
def test_a_mismatch_refuses_the_course_with_a_clear_message(
    rpi, coordinator, released, changes, field, text
):
    if changes.get("bag_date_of_birth") == "shift":
        changes["bag_date_of_birth"] = rpi.screening.date_of_birth + timedelta(days=1)
    with pytest.raises(DomainError) as refused:
        give(rpi, coordinator, **changes)
    assert text in " ".join(refused.value.field_errors[field])
    assert not Infusion.objects.exists()


def test_a_bag_of_another_patient_is_refused(rpi, randomized, coordinator, investigator):
    other = randomized("RPI", days_ago=30)
    bag = released_bag(patient=other, by=investigator, infused_at=at(14))
    with pytest.raises(DomainError, match="Bedside check failed.*another patient's apheresis"):
        give(rpi, coordinator, batch_number=bag["batch_number"])


def test_an_unreleased_batch_is_refused(rpi, apheresis, coordinator):
    record_release_tests(make_batch(apheresis, coordinator), coordinator)
    with pytest.raises(DomainError, match="INKT-B-0042 is not released"):
        give(rpi, coordinator)


def test_a_batch_released_after_the_infusion_is_refused(rpi, apheresis, coordinator, investigator):
    batch = make_batch(apheresis, coordinator)
    record_release_tests(batch, coordinator)
    services.batch_release(batch=batch, by=investigator, released_at=at(10))
    with pytest.raises(DomainError, match="after the infusion"):
        give(rpi, coordinator, days_ago=14)


def test_expiry_is_checked_at_the_infusion_time(rpi, apheresis, coordinator, investigator):
    batch = make_batch(apheresis, coordinator, expires_at=at(13))
    record_release_tests(batch, coordinator)
    services.batch_release(batch=batch, by=investigator, released_at=at(16))
    with pytest.raises(DomainError, match="expired on"):
        give(rpi, coordinator, days_ago=12, deviation_reason="Late")
    assert give(rpi, coordinator, days_ago=14).batch == batch  # before its expiry


def test_a_test_failed_since_the_release_stops_the_bag(rpi, released, coordinator):
    sterility = released.release_tests.get(assay="sterility")
    services.release_test_correct(
        release_test=sterility,
        by=coordinator,
        reason="Culture turned positive",
        result_passed=False,
    )
    with pytest.raises(DomainError, match="Sterility failed"):
        give(rpi, coordinator)


def test_a_bag_is_infused_once(rpi, released, coordinator):
    give(rpi, coordinator)
    with pytest.raises(DomainError, match=r"already infused \(course 1\)"):
        give(rpi, coordinator, days_ago=0)


def test_the_rp_arm_never_reaches_the_bedside(randomized, coordinator):
    rp = randomized("RP", days_ago=10)
    with pytest.raises(DomainError, match="RP arm"):
        give(rp, coordinator)


def test_correcting_the_bag_of_a_course_checks_it_again(rpi, released, coordinator, investigator):
    course = give(rpi, coordinator)
    with pytest.raises(DomainError, match="labelled for INKT-777"):
        services.infusion_correct(
            infusion=course, by=coordinator, reason="Label retyped", bag_study_id="INKT-777"
        )
    bag = released_bag(patient=rpi, by=investigator, infused_at=course.infused_at)
    fixed = services.infusion_correct(
        infusion=course,
        by=coordinator,
        reason="Wrong bag scanned",
        batch_number=bag["batch_number"],
    )
    assert fixed.batch.batch_number == bag["batch_number"]
    assert history_of(fixed)[0]["reason"] == "Wrong bag scanned"


def test_a_batch_infused_keeps_its_number(rpi, released, coordinator):
    give(rpi, coordinator)
    with pytest.raises(DomainError, match="infused under this number"):
        services.batch_correct(
            batch=released, by=coordinator, reason="Typo", batch_number="INKT-B-0043"
        )
    fixed = services.batch_correct(
        batch=released, by=coordinator, reason="Count per certificate", cells_total=3 * 10**9
    )
    assert fixed.cells_total == 3 * 10**9 and fixed.released_at is not None


# -- a database lock ---------------------------------------------------------------------------


def test_a_lock_freezes_the_chain_up_to_its_cutoff(
    rpi, apheresis, coordinator, investigator, data_manager
):
    batch = make_batch(apheresis, coordinator, manufactured_on=at(20).date())
    datamanagement.data_lock(
        by=data_manager, patient=rpi, cutoff=at(21).date(), reason="Interim analysis"
    )
    with pytest.raises(DomainError, match="locked"):
        services.apheresis_correct(apheresis=apheresis, by=coordinator, reason="x", volume_ml=1)
    with pytest.raises(DomainError, match="locked|can be added"):
        services.apheresis_record(patient=rpi, by=coordinator, date=at(25).date(), volume_ml=1)
    # the batch is dated after the cut-off: its tests and release go on
    record_release_tests(batch, coordinator)
    assert services.batch_release(batch=batch, by=investigator).released_at is not None
    assert timezone.localdate(batch.expires_at) > at(0).date()
