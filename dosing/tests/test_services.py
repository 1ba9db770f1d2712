from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from dosing import services
from dosing.fixtures import released_bag
from dosing.models import Infusion, InfusionReminder
from inkt_trial.audit import history_of
from inkt_trial.errors import DomainError

pytestmark = pytest.mark.django_db

TARGET = 5 * 10**8


def at(days_ago: int, hour: int = 10):
    """That day at `hour`, local time; today never later than now (the suite may run before
    10:00 in the trial's time zone)."""
    day = timezone.localdate() - timedelta(days=days_ago)
    moment = timezone.make_aware(datetime.combine(day, time(hour)))
    return min(moment, timezone.now() - timedelta(seconds=1)) if days_ago == 0 else moment


@pytest.fixture
def rpi(randomized, coordinator):
    """An RPI patient randomized 60 days ago, height 168 cm, with a schedule from 56 days ago."""
    patient = randomized("RPI", days_ago=60)
    services.schedule_create(
        patient=patient,
        by=coordinator,
        first_planned_date=at(56).date(),
        target_cells_per_m2=TARGET,
    )
    return patient


def give(patient, by, days_ago, weight="64.0", cells=None, **extra):
    bag = released_bag(patient=patient, by=by, infused_at=at(days_ago))
    return services.infusion_record(
        patient=patient,
        by=by,
        infused_at=at(days_ago),
        weight_kg=Decimal(weight),
        target_cells_per_m2=extra.pop("target", TARGET),
        cells_infused=cells if cells is not None else 8 * 10**8,
        **{**bag, **extra},
    )


def test_course_dose_from_weight_of_the_day_and_screening_height(rpi, coordinator):
    course = give(rpi, coordinator, days_ago=56, weight="64.0")
    # Mosteller: sqrt(168 x 64 / 3600) = sqrt(2.98667) = 1.7282 m2; 5e8 x 1.7282 = 8.641e8
    assert course.bsa_m2 == Decimal("1.7282")
    assert course.computed_dose_cells == 864_100_000
    assert course.course_number == 1 and course.deviations == []
    second = give(rpi, coordinator, days_ago=42, weight="60.0")
    assert second.bsa_m2 == Decimal("1.6733")  # sqrt(168 x 60 / 3600) = sqrt(2.8)


def test_delayed_course_needs_a_reason_and_keeps_it(rpi, coordinator):
    give(rpi, coordinator, days_ago=56)
    with pytest.raises(DomainError, match="delayed"):
        give(rpi, coordinator, days_ago=37)  # planned 42 days ago, window ends 39 days ago
    course = give(rpi, coordinator, days_ago=37, deviation_reason="Patient had a fever")
    assert course.deviations == ["delayed", "outside_window"]
    assert course.planned_date == at(42).date()


def test_schedule_runs_from_the_actual_first_infusion(rpi, coordinator):
    give(rpi, coordinator, days_ago=55, deviation_reason="")  # a day late, inside the window
    second = give(rpi, coordinator, days_ago=41)
    assert second.planned_date == at(41).date() and second.deviations == []


def test_missed_course_needs_its_reason(rpi, coordinator):
    give(rpi, coordinator, days_ago=56)
    with pytest.raises(DomainError):
        services.infusion_record(patient=rpi, by=coordinator, status="missed")
    missed = services.infusion_record(
        patient=rpi, by=coordinator, status="missed", deviation_reason="Cell product failed QC"
    )
    assert (missed.course_number, missed.deviations) == (2, ["missed"])


def test_reduced_dose_is_a_deviation_with_reason(rpi, coordinator):
    with pytest.raises(DomainError, match="reduced dose"):
        give(rpi, coordinator, days_ago=56, cells=7 * 10**8)  # 81% of 8.641e8
    course = give(rpi, coordinator, days_ago=56, cells=7 * 10**8, deviation_reason="Low yield")
    assert course.deviations == ["reduced_dose"]


def test_dose_outside_the_range_is_refused_unless_recorded_as_deviation(rpi, coordinator):
    with pytest.raises(DomainError, match="outside 10\\^8-10\\^9"):
        give(rpi, coordinator, days_ago=56, target=2 * 10**9, cells=3 * 10**9)
    assert not Infusion.objects.exists()
    course = give(
        rpi,
        coordinator,
        days_ago=56,
        target=2 * 10**9,
        cells=3 * 10**9,
        deviation_reason="Investigator's decision, documented",
    )
    assert "dose_out_of_range" in course.deviations


def test_implausible_weight_is_refused_unless_recorded_as_deviation(rpi, coordinator):
    with pytest.raises(DomainError, match="Weight 640.0 kg"):
        give(rpi, coordinator, days_ago=56, weight="640.0")


def test_seventh_course_is_refused(rpi, coordinator):
    for days_ago in (56, 42, 28, 14):
        give(rpi, coordinator, days_ago=days_ago)
    services.infusion_record(
        patient=rpi, by=coordinator, status="missed", deviation_reason="Hospitalised"
    )
    with time_machine.travel(timezone.now() + timedelta(days=14), tick=False):
        services.infusion_record(  # course 6, once its window is open
            patient=rpi, by=coordinator, status="missed", deviation_reason="Hospitalised"
        )
    with pytest.raises(DomainError, match="all 6 courses"):
        give(rpi, coordinator, days_ago=0, deviation_reason="x")
    assert Infusion.objects.filter(patient=rpi).count() == 6


def test_rp_patient_and_unrandomized_patient_get_no_infusion(randomized, enrol, coordinator):
    rp = randomized("RP")
    with pytest.raises(DomainError, match="RP arm"):
        services.schedule_create(
            patient=rp, by=coordinator, first_planned_date=at(0).date(), target_cells_per_m2=TARGET
        )
    with pytest.raises(DomainError, match="not randomized"):
        services.schedule_create(
            patient=enrol(),
            by=coordinator,
            first_planned_date=at(0).date(),
            target_cells_per_m2=TARGET,
        )


def test_no_course_before_randomization_or_in_the_future(rpi, coordinator):
    with pytest.raises(DomainError) as refused:
        give(rpi, coordinator, days_ago=61)
    assert "before randomization" in str(refused.value.field_errors)
    with pytest.raises(DomainError) as refused:
        give(rpi, coordinator, days_ago=-1)
    assert "future" in str(refused.value.field_errors)


def test_end_of_treatment_closes_the_schedule(rpi, coordinator):
    from enrollment import course
    from enrollment.status import drugs_of_arm

    give(rpi, coordinator, days_ago=56)
    for drug in drugs_of_arm(True):  # the RPI arm: every drug ends
        course.treatment_end_record(
            patient=rpi, by=coordinator, drug=drug, date=at(50).date(), reason="progression"
        )
    with pytest.raises(DomainError, match="iNKT cells may not be given after") as refused:
        give(rpi, coordinator, days_ago=42)
    assert "end of treatment with iNKT cells (disease progression)" in str(refused.value)
    assert services.due_and_overdue(today=timezone.localdate()) == []


def test_correction_needs_a_reason_and_recomputes(rpi, coordinator):
    course = give(rpi, coordinator, days_ago=56)
    with pytest.raises(DomainError, match="reason"):
        services.infusion_correct(infusion=course, by=coordinator, reason="", weight_kg=Decimal(70))
    fixed = services.infusion_correct(
        infusion=course, by=coordinator, reason="Scale read wrongly", weight_kg=Decimal("66.0")
    )
    assert fixed.bsa_m2 == Decimal("1.7550")  # sqrt(168 x 66 / 3600) = sqrt(3.08)
    assert fixed.computed_dose_cells == 877_500_000
    assert history_of(fixed)[0]["reason"] == "Scale read wrongly"


def test_exposure_summary_matches_a_hand_count(rpi, coordinator):
    give(rpi, coordinator, days_ago=56, cells=864_100_000)  # computed dose 8.641e8
    give(rpi, coordinator, days_ago=42, cells=800_000_000)
    services.infusion_record(patient=rpi, by=coordinator, status="missed", deviation_reason="Fever")
    give(rpi, coordinator, days_ago=14, cells=864_100_000)
    summary = services.exposure_summary(rpi)
    assert (summary.courses_given, summary.courses_missed) == (3, 1)
    assert summary.cumulative_cells == 2_528_200_000
    # delivered 2.5282e9 over 42 + 14 = 56 days; planned 8.641e8 per 14 days:
    # (2.5282e9 / 56) / (8.641e8 / 14) = 45,146,428.6 / 61,721,428.6 = 0.7315
    assert summary.relative_dose_intensity == Decimal("0.731")


def test_pd1_and_regorafenib_with_dose_changes_and_interruptions(randomized, coordinator):
    rp = randomized("RP", days_ago=30)
    record = services.drug_exposure_record
    record(
        patient=rp,
        by=coordinator,
        drug="regorafenib",
        event="period",
        dose=Decimal(160),
        unit="mg",
        route="oral",
        start_date=at(28).date(),
        end_date=at(8).date(),
    )
    with pytest.raises(DomainError) as refused:
        record(
            patient=rp,
            by=coordinator,
            drug="regorafenib",
            event="period",
            dose=Decimal(120),
            unit="mg",
            route="oral",
            start_date=at(7).date(),
        )
    assert "previous one (160.00 mg)" in str(refused.value.field_errors["reason"])
    changed = record(
        patient=rp,
        by=coordinator,
        drug="regorafenib",
        event="period",
        dose=Decimal(120),
        unit="mg",
        route="oral",
        start_date=at(7).date(),
        reason="Hand-foot skin reaction grade 2",
    )
    assert changed.dose_changed
    with pytest.raises(DomainError):
        record(
            patient=rp, by=coordinator, drug="pd1", event="interruption", start_date=at(5).date()
        )
    held = record(
        patient=rp,
        by=coordinator,
        drug="pd1",
        event="interruption",
        start_date=at(5).date(),
        end_date=at(2).date(),
        reason="Hepatitis grade 2",
    )
    assert held.dose is None


def test_daily_flags_due_and_overdue_once_and_emails_coordinators(rpi, coordinator):
    coordinator.email = "coord@example.org"
    coordinator.save()
    today = timezone.localdate()
    give(rpi, coordinator, days_ago=56)  # course 2 planned 42 days ago: overdue
    assert services.reminders_flag(today=today) == 1
    reminder = InfusionReminder.objects.get()
    assert (reminder.course_number, reminder.kind, reminder.emailed) == (2, "overdue", True)
    assert rpi.study_id in mail.outbox[0].body
    assert services.reminders_flag(today=today) == 0  # flagged once
    assert len(mail.outbox) == 1


def test_course_due_within_three_days_is_flagged_due(randomized, coordinator):
    patient = randomized("RPI", days_ago=5)
    services.schedule_create(
        patient=patient,
        by=coordinator,
        first_planned_date=timezone.localdate() + timedelta(days=2),
        target_cells_per_m2=TARGET,
    )
    rows = services.due_and_overdue(today=timezone.localdate())
    assert [(r["patient"], r["course"].number, r["kind"]) for r in rows] == [(patient, 1, "due")]
    later = services.due_and_overdue(today=timezone.localdate() - timedelta(days=2))
    assert later == []


def test_schedule_changes_after_course_1_keep_dates_and_windows(rpi, coordinator):
    give(rpi, coordinator, days_ago=56)
    schedule = rpi.infusion_schedule
    same = {"first_planned_date": schedule.first_planned_date, "window_days": 3}
    changed = services.schedule_update(
        schedule=schedule,
        by=coordinator,
        reason="New target",
        target_cells_per_m2=6 * 10**8,
        **same,
    )
    assert changed.target_cells_per_m2 == 6 * 10**8
    with pytest.raises(DomainError, match="Courses are recorded"):
        services.schedule_update(schedule=schedule, by=coordinator, reason="wider", window_days=5)


def test_first_course_far_from_randomization_is_refused(randomized, coordinator):
    patient = randomized("RPI", days_ago=1)
    for day in (timezone.localdate() - timedelta(days=5), date_max()):
        with pytest.raises(DomainError) as refused:
            services.schedule_create(
                patient=patient, by=coordinator, first_planned_date=day, target_cells_per_m2=TARGET
            )
        assert "first_planned_date" in refused.value.field_errors


def date_max():
    from datetime import date

    return date(9999, 12, 1)


def test_course_date_is_not_corrected_under_later_courses(rpi, coordinator):
    first = give(rpi, coordinator, days_ago=56)
    give(rpi, coordinator, days_ago=42)
    with pytest.raises(DomainError, match="Later courses"):
        services.infusion_correct(infusion=first, by=coordinator, reason="typo", infused_at=at(55))


def test_overdue_flag_supersedes_the_due_flag(randomized, coordinator):
    from dosing import selectors

    patient = randomized("RPI", days_ago=10)
    services.schedule_create(
        patient=patient,
        by=coordinator,
        first_planned_date=timezone.localdate() - timedelta(days=2),
        target_cells_per_m2=TARGET,
    )
    services.reminders_flag(today=timezone.localdate() - timedelta(days=4))  # due in 2 days
    services.reminders_flag(today=timezone.localdate())  # 2 days late, still in its window
    kinds = {r.kind for r in InfusionReminder.objects.all()}
    shown = [r.kind for r in selectors.open_reminders()]
    assert kinds == {"due"} and shown == ["due"]
    services.reminders_flag(today=timezone.localdate() + timedelta(days=2))  # past the window
    assert [r.kind for r in selectors.open_reminders()] == ["overdue"]


def test_a_course_cannot_be_missed_before_its_window(rpi, coordinator):
    for days_ago in (56, 42, 28, 14, 0):
        give(rpi, coordinator, days_ago=days_ago)
    with pytest.raises(DomainError, match="before its window opens"):
        services.infusion_record(
            patient=rpi, by=coordinator, status="missed", deviation_reason="Travelling"
        )
