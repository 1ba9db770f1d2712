"""Every write of the dosing app: keyword-only functions, one transaction each."""

import logging
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import COORDINATOR
from dosing import protocol, rules
from dosing.models import DrugExposure, Infusion, InfusionReminder, InfusionSchedule
from enrollment import course
from enrollment import status as course_rules
from enrollment.course import treatment_stops_of
from enrollment.dates import shown
from enrollment.models import Patient
from inkt_trial.errors import DomainError
from randomization.protocol import RPI

log = logging.getLogger(__name__)


def _require_rpi(patient: Patient):
    allocation = getattr(patient, "allocation", None)
    if allocation is None:
        raise DomainError(f"{patient} is not randomized yet; iNKT infusions follow randomization.")
    if allocation.arm != RPI:
        raise DomainError(f"{patient} is in the RP arm, which receives no iNKT cells.")
    return allocation


def _require_on_treatment(patient: Patient, on: date | None = None):
    """iNKT cells may still be given on `on` (None: at all, for the schedule): not after their
    end of treatment, a withdrawal of consent, the death or an end of study."""
    if on is not None:
        course.refuse_after_stop(patient.pk, course_rules.INKT, on, "infused_at")
    elif (stop := course.treatment_stop(patient.pk, course_rules.INKT)) is not None:
        raise DomainError(f"iNKT treatment of {patient} is over since {shown(stop[0])}: {stop[1]}.")


def _check_first_date(first_planned_date: date, allocation) -> None:
    randomized_on = timezone.localdate(allocation.randomized_at)
    latest = randomized_on + timedelta(days=protocol.MAX_DAYS_TO_FIRST_COURSE)
    if not randomized_on <= first_planned_date <= latest:
        raise DomainError(
            field_errors={
                "first_planned_date": [
                    f"Plan course 1 between randomization ({shown(randomized_on)}) and "
                    f"{shown(latest)}."
                ]
            }
        )


def _check_target(target: int, field="target_cells_per_m2"):
    if not rules.target_in_range(target):
        raise DomainError(
            field_errors={field: ["The protocol's range is 10^8 to 10^9 cells/m² (1e8 to 1e9)."]}
        )


@transaction.atomic
def schedule_create(
    *,
    patient: Patient,
    by,
    first_planned_date: date,
    target_cells_per_m2: int,
    window_days: int = protocol.DEFAULT_WINDOW_DAYS,
    bsa_formula: str = rules.Formula.MOSTELLER,
) -> InfusionSchedule:
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    allocation = _require_rpi(patient)
    _require_on_treatment(patient)
    if InfusionSchedule.objects.filter(patient=patient).exists():
        raise DomainError(f"{patient} already has an infusion schedule; change it instead.")
    _check_target(target_cells_per_m2)
    _check_first_date(first_planned_date, allocation)
    if not 0 <= window_days <= 7:
        raise DomainError(field_errors={"window_days": ["Between 0 and 7 days."]})
    schedule = InfusionSchedule(
        patient=patient,
        first_planned_date=first_planned_date,
        window_days=window_days,
        bsa_formula=rules.Formula(bsa_formula).value,
        target_cells_per_m2=target_cells_per_m2,
        created_by=by,
    )
    schedule._history_user = by
    schedule.save()
    return schedule


@transaction.atomic
def schedule_update(*, schedule: InfusionSchedule, by, reason: str, **changes) -> InfusionSchedule:
    schedule = (
        InfusionSchedule.objects.select_for_update(of=("self",))
        .select_related("patient__allocation")
        .get(pk=schedule.pk)
    )
    _require_on_treatment(schedule.patient)
    changes = {k: v for k, v in changes.items() if getattr(schedule, k, v) != v}
    if "target_cells_per_m2" in changes:
        _check_target(changes["target_cells_per_m2"])
    if "window_days" in changes and not 0 <= changes["window_days"] <= 7:
        raise DomainError(field_errors={"window_days": ["Between 0 and 7 days."]})
    if "first_planned_date" in changes:
        _check_first_date(changes["first_planned_date"], schedule.patient.allocation)
    recorded = Infusion.objects.filter(patient=schedule.patient).exists()
    fixed = [f for f in ("first_planned_date", "window_days") if f in changes]
    if recorded and fixed:
        raise DomainError(
            "Courses are recorded: the planned dates and windows they were judged by stay as "
            "they are (the target may still change for the next courses).",
            field_errors={f: ["Fixed once a course is recorded."] for f in fixed},
        )
    for field in ("first_planned_date", "window_days", "bsa_formula", "target_cells_per_m2"):
        if field in changes:
            setattr(schedule, field, changes[field])
    schedule.save_with_reason(reason, by=by)
    return schedule


_UNKNOWN = object()


def planned_courses(schedule: InfusionSchedule, first_given=_UNKNOWN) -> list[rules.PlannedCourse]:
    """The schedule's courses, anchored on course 1's actual date once it was given (pass
    `first_given`, course 1's infused_at or None, when it is already known)."""
    first = first_given
    if first is _UNKNOWN:
        first = (
            Infusion.objects.filter(
                patient=schedule.patient, course_number=1, status=Infusion.GIVEN
            )
            .values_list("infused_at", flat=True)
            .first()
        )
    anchor = timezone.localdate(first) if first else schedule.first_planned_date
    return rules.schedule(anchor=anchor, window_days=schedule.window_days)


def _derive(infusion: Infusion, *, course: rules.PlannedCourse, screening_height) -> list[str]:
    """Fill the derived fields of a course record; return the problems that refuse it."""
    problems: list[str] = []
    infusion.planned_date = course.planned
    if infusion.status == Infusion.MISSED:
        infusion.height_cm = infusion.bsa_m2 = infusion.computed_dose_cells = None
        infusion.deviations = [
            d.value
            for d in rules.deviations(
                course=course,
                given_on=None,
                computed_dose=None,
                cells_infused=None,
                target_cells_per_m2=None,
                bsa=None,
            )
        ]
        return problems
    infusion.height_cm = screening_height
    body = rules.body_problems(height_cm=screening_height, weight_kg=infusion.weight_kg)
    infusion.bsa_m2 = rules.bsa_m2(
        height_cm=screening_height, weight_kg=infusion.weight_kg, formula=infusion.bsa_formula
    )
    if not protocol.BSA_M2_RANGE[0] <= infusion.bsa_m2 <= protocol.BSA_M2_RANGE[1]:
        body.append(f"BSA {infusion.bsa_m2} m² is outside the plausible range.")
    infusion.computed_dose_cells = rules.cell_dose(
        target_cells_per_m2=infusion.target_cells_per_m2, bsa=infusion.bsa_m2
    )
    found = rules.deviations(
        course=course,
        given_on=timezone.localdate(infusion.infused_at),
        computed_dose=infusion.computed_dose_cells,
        cells_infused=infusion.cells_infused,
        target_cells_per_m2=infusion.target_cells_per_m2,
        bsa=infusion.bsa_m2,
        body_ok=not body,
    )
    infusion.deviations = [d.value for d in found]
    if not infusion.deviation_reason.strip():
        if body:
            problems += body
        if rules.Deviation.DOSE_OUT_OF_RANGE in found:
            problems.append(
                "The dose is outside 10^8-10^9 cells/m²; refused unless recorded as a deviation "
                "with its reason."
            )
        elif found:
            names = ", ".join(rules.DEVIATION_TEXT[d].lower() for d in found)
            problems.append(f"This course deviates from the protocol ({names}): give the reason.")
    return problems


def _validate_given(data: dict, *, allocation, previous: Infusion | None) -> dict:
    errors: dict[str, list[str]] = {}
    required = ("infused_at", "weight_kg", "target_cells_per_m2", "cells_infused", "batch_number")
    for field in required:
        if data.get(field) in (None, ""):
            errors.setdefault(field, []).append("Required for a course given.")
    infused_at = data.get("infused_at")
    if infused_at:
        if infused_at > timezone.now():
            errors.setdefault("infused_at", []).append("Cannot be in the future.")
        if infused_at < allocation.randomized_at:
            errors.setdefault("infused_at", []).append("Cannot be before randomization.")
        if previous is not None and previous.infused_at and infused_at <= previous.infused_at:
            errors.setdefault("infused_at", []).append(
                f"Must be after course {previous.course_number} "
                f"({timezone.localtime(previous.infused_at):%Y-%m-%d %H:%M})."
            )
    for field in ("weight_kg", "target_cells_per_m2"):
        if data.get(field) is not None and data[field] <= 0:
            errors.setdefault(field, []).append("Must be positive.")
    if data.get("infusion_reaction") and not (data.get("reaction_description") or "").strip():
        errors.setdefault("reaction_description", []).append("Describe the infusion reaction.")
    return errors


@transaction.atomic
def infusion_record(*, patient: Patient, by, status: str = Infusion.GIVEN, **data) -> Infusion:
    """Record the next course (given, with its dose, or missed, with the reason). The dose is
    computed from the weight of the day, the height at screening and the target per m²."""
    patient = (
        Patient.objects.select_for_update(of=("self",))
        .select_related("screening", "allocation")
        .get(pk=patient.pk)
    )
    allocation = _require_rpi(patient)
    schedule = InfusionSchedule.objects.filter(patient=patient).first()
    if schedule is None:
        raise DomainError(f"Set up the infusion schedule of {patient} first.")
    done = list(Infusion.objects.filter(patient=patient).order_by("course_number"))
    number = len(done) + 1
    if number > protocol.MAX_COURSES:
        raise DomainError(
            f"{patient} has had all {protocol.MAX_COURSES} courses; the protocol allows no more."
        )
    if status not in (Infusion.GIVEN, Infusion.MISSED):
        raise DomainError(field_errors={"status": ["Given or missed."]})
    given_on = timezone.localdate(data["infused_at"]) if data.get("infused_at") else None
    _require_on_treatment(patient, on=given_on or timezone.localdate())
    previous = next((i for i in reversed(done) if i.status == Infusion.GIVEN), None)
    if status == Infusion.GIVEN:
        errors = _validate_given(data, allocation=allocation, previous=previous)
        if errors:
            raise DomainError("The course was not recorded.", field_errors=errors)
    elif not (data.get("deviation_reason") or "").strip():
        raise DomainError(field_errors={"deviation_reason": ["Say why the course was missed."]})

    given = (
        {k: v for k, v in data.items() if k in _GIVEN_FIELDS} if status == Infusion.GIVEN else {}
    )
    infusion = Infusion(
        patient=patient,
        course_number=number,
        status=status,
        recorded_by=by,
        bsa_formula=data.get("bsa_formula") or schedule.bsa_formula,
        deviation_reason=(data.get("deviation_reason") or "").strip(),
        **given,
    )
    courses = planned_courses(schedule)  # course 1 not given yet: anchored on its plan
    if status == Infusion.MISSED:
        early = rules.missed_too_early(courses[number - 1], timezone.localdate())
        if early:
            raise DomainError(early, field_errors={"status": [early]})
    problems = _derive(
        infusion, course=courses[number - 1], screening_height=patient.screening.height_cm
    )
    if problems:
        raise DomainError(" ".join(problems), field_errors={"deviation_reason": problems})
    infusion._history_user = by
    try:
        infusion.save()
    except IntegrityError:
        raise DomainError(f"Course {number} of {patient} was recorded meanwhile; reload.") from None
    return infusion


_GIVEN_FIELDS = (
    "infused_at",
    "weight_kg",
    "target_cells_per_m2",
    "cells_infused",
    "batch_number",
    "infusion_reaction",
    "reaction_description",
)


@transaction.atomic
def infusion_correct(*, infusion: Infusion, by, reason: str, **changes) -> Infusion:
    """Correct a recorded course (with the reason for the change); derived values and
    deviations are computed again."""
    infusion = (
        Infusion.objects.select_for_update(of=("self",))
        .select_related("patient__screening", "patient__allocation")
        .get(pk=infusion.pk)
    )
    if infusion.status != Infusion.GIVEN:
        raise DomainError("A missed course has nothing to correct; record the next course.")
    unknown = sorted(set(changes) - set(_GIVEN_FIELDS) - {"deviation_reason"})
    if unknown:
        raise DomainError(field_errors={f: ["Cannot be corrected here."] for f in unknown})
    data = {f: getattr(infusion, f) for f in _GIVEN_FIELDS}
    data.update({k: v for k, v in changes.items() if k in _GIVEN_FIELDS})
    later = Infusion.objects.filter(
        patient=infusion.patient, course_number__gt=infusion.course_number
    ).exists()
    if later and data["infused_at"] != infusion.infused_at:
        raise DomainError(
            "Later courses were judged against this date: correct them first, from the last.",
            field_errors={"infused_at": ["Later courses are recorded."]},
        )
    previous = (
        Infusion.objects.filter(
            patient=infusion.patient,
            course_number__lt=infusion.course_number,
            status=Infusion.GIVEN,
        )
        .order_by("-course_number")
        .first()
    )
    errors = _validate_given(data, allocation=infusion.patient.allocation, previous=previous)
    if errors:
        raise DomainError("The correction was refused.", field_errors=errors)
    for field, value in data.items():
        setattr(infusion, field, value)
    if "deviation_reason" in changes:
        infusion.deviation_reason = (changes["deviation_reason"] or "").strip()
    schedule = infusion.patient.infusion_schedule
    courses = (
        rules.schedule(anchor=schedule.first_planned_date, window_days=schedule.window_days)
        if infusion.course_number == 1
        else planned_courses(schedule)
    )
    problems = _derive(
        infusion,
        course=courses[infusion.course_number - 1],
        screening_height=infusion.patient.screening.height_cm,
    )
    if problems:
        raise DomainError(" ".join(problems), field_errors={"deviation_reason": problems})
    infusion.save_with_reason(reason, by=by)
    return infusion


@transaction.atomic
def drug_exposure_record(*, patient: Patient, by, **data) -> DrugExposure:
    """A PD-1 antibody or regorafenib record (both arms). An interruption needs its reason and
    dates; a dose different from the drug's previous dose is a dose change and needs its reason."""
    patient = Patient.objects.select_related("allocation").get(pk=patient.pk)
    allocation = getattr(patient, "allocation", None)
    if allocation is None:
        raise DomainError(f"{patient} is not randomized yet.")
    errors: dict[str, list[str]] = {}
    event, start, end = data.get("event"), data.get("start_date"), data.get("end_date")
    if start and start < timezone.localdate(allocation.randomized_at):
        errors.setdefault("start_date", []).append("Cannot be before randomization.")
    drug = data.get("drug")
    stop = course.treatment_stop(patient.pk, drug) if drug in course_rules.DRUGS else None
    for field, value in (("start_date", start), ("end_date", end)):
        if stop is not None and value and value > stop[0]:
            errors.setdefault(field, []).append(
                f"{course_rules.DRUGS[drug]} may not be given after {shown(stop[0])}: {stop[1]}."
            )
    for field, value in (("start_date", start), ("end_date", end)):
        if value and value > timezone.localdate():
            errors.setdefault(field, []).append("Cannot be in the future.")
    if start and end and end < start:
        errors.setdefault("end_date", []).append("Cannot be before the start date.")
    if event == "interruption":
        if not (data.get("reason") or "").strip():
            errors.setdefault("reason", []).append("Say why the drug was interrupted.")
        data["dose"], data["unit"] = None, ""
    else:
        for field in ("dose", "unit", "route"):
            if not data.get(field):
                errors.setdefault(field, []).append("Required.")
        if data.get("dose") is not None and data["dose"] <= 0:
            errors.setdefault("dose", []).append("Must be positive.")
    if event == "administration" and end and end != start:
        errors.setdefault("end_date", []).append("A single administration has one date.")
    previous = (
        DrugExposure.objects.filter(patient=patient, drug=data.get("drug"))
        .exclude(event="interruption")
        .order_by("-start_date", "-pk")
        .first()
    )
    changed = bool(
        previous
        and event != "interruption"
        and data.get("dose") is not None
        and (data["dose"] != previous.dose or data.get("unit") != previous.unit)
    )
    if changed and not (data.get("reason") or "").strip():
        errors.setdefault("reason", []).append(
            f"The dose differs from the previous one ({previous.dose} {previous.unit}): "
            "give the reason for the change."
        )
    if errors:
        raise DomainError("The record was refused.", field_errors=errors)
    record = DrugExposure(patient=patient, recorded_by=by, dose_changed=changed, **data)
    record._history_user = by
    record.save()
    return record


def due_and_overdue(*, today: date) -> list[dict]:
    """Courses due within 3 days or overdue (past their window), for every RPI patient on
    treatment with a schedule: one row per patient at most, for the next course."""
    rows = []
    schedules = list(InfusionSchedule.objects.select_related("patient"))
    stops = treatment_stops_of([s.patient_id for s in schedules])
    schedules = [s for s in schedules if stops[s.patient_id][course_rules.INKT] is None]
    recorded, first_given = {}, {}
    for patient_id, number, status, infused_at in Infusion.objects.values_list(
        "patient_id", "course_number", "status", "infused_at"
    ):
        recorded[patient_id] = max(recorded.get(patient_id, 0), number)
        if number == 1 and status == Infusion.GIVEN:
            first_given[patient_id] = infused_at
    for schedule in schedules:
        number = recorded.get(schedule.patient_id, 0) + 1
        if number > protocol.MAX_COURSES:
            continue
        course = planned_courses(schedule, first_given.get(schedule.patient_id))[number - 1]
        kind = rules.pending_state(course, today)  # InfusionReminder kinds: "due", "overdue"
        if kind == "planned":
            continue
        rows.append({"patient": schedule.patient, "course": course, "kind": kind})
    return sorted(rows, key=lambda r: (r["course"].planned, r["patient"].study_id))


def reminders_flag(*, today: date) -> int:
    """The daily task: flag due and overdue courses (once each) and e-mail the coordinators
    the new ones. Returns the number of new flags."""
    new = []
    for row in due_and_overdue(today=today):
        reminder, created = InfusionReminder.objects.update_or_create(
            patient=row["patient"],
            course_number=row["course"].number,
            kind=row["kind"],
            defaults={"planned_date": row["course"].planned},
            create_defaults={"planned_date": row["course"].planned, "flagged_on": today},
        )
        if created:
            new.append(reminder)
    # every flag not yet e-mailed, including any that a failed e-mail left behind
    unsent = list(InfusionReminder.objects.filter(emailed=False).select_related("patient"))
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=COORDINATOR, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if unsent and recipients:
        lines = [
            f"- {r.patient.study_id} course {r.course_number}: planned {r.planned_date}, "
            f"{r.get_kind_display().lower()}"
            for r in unsent
        ]
        send_mail(
            subject=f"[NCT05962450] iNKT infusions due or overdue ({len(unsent)})",
            message="\n".join(["Infusions to schedule or record:", *lines, ""]),
            from_email=None,
            recipient_list=recipients,
        )
        InfusionReminder.objects.filter(pk__in=[r.pk for r in unsent]).update(emailed=True)
    return len(new)


def exposure_summary(patient: Patient) -> rules.Exposure:
    infusions = list(Infusion.objects.filter(patient=patient).order_by("course_number"))
    records = [
        rules.CourseRecord(
            number=i.course_number,
            planned_on=i.planned_date,
            given_on=timezone.localdate(i.infused_at) if i.status == Infusion.GIVEN else None,
            cells_infused=i.cells_infused or 0,
        )
        for i in infusions
    ]
    schedule = InfusionSchedule.objects.filter(patient=patient).first()
    first_given = next((i for i in infusions if i.status == Infusion.GIVEN), None)
    reference = (
        rules.cell_dose(target_cells_per_m2=schedule.target_cells_per_m2, bsa=first_given.bsa_m2)
        if schedule and first_given
        else None
    )
    return rules.exposure(records, reference_dose=reference)
