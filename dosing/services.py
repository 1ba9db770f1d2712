"""Every write of the dosing app: keyword-only functions, one transaction each."""

import logging
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.roles import COORDINATOR
from dosing import chain, protocol, rules
from dosing.models import (
    Apheresis,
    DrugExposure,
    Infusion,
    InfusionReminder,
    InfusionSchedule,
    ManufacturingBatch,
    ReleaseTest,
)
from enrollment import course
from enrollment import status as course_rules
from enrollment.course import treatment_stops_of
from enrollment.dates import shown
from enrollment.models import Patient
from inkt_trial.audit import apply_changes
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


BEDSIDE_FIELDS = ("bag_study_id", "bag_date_of_birth", "batch_number")


def _validate_given(
    data: dict, *, allocation, previous: Infusion | None, bedside: bool = True
) -> dict:
    errors: dict[str, list[str]] = {}
    required = ("infused_at", "weight_kg", "target_cells_per_m2", "cells_infused", "batch_number")
    if bedside:
        required += ("bag_study_id", "bag_date_of_birth")
    for field in required:
        if data.get(field) in (None, ""):
            errors.setdefault(field, []).append(
                "Required for a course given (the bedside check of the bag's label)."
                if field in BEDSIDE_FIELDS
                else "Required for a course given."
            )
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
    mismatches = _bedside_check(infusion, patient) if status == Infusion.GIVEN else []
    _refuse(problems, mismatches)
    infusion._history_user = by
    try:
        infusion.save()
    except IntegrityError:
        raise DomainError(
            f"Course {number} of {patient}, or a course from batch {infusion.batch_number}, was "
            "recorded meanwhile; reload."
        ) from None
    return infusion


def _refuse(problems: list[str], mismatches: list[chain.Mismatch]) -> None:
    """One refusal for the course: the bedside check's mismatches first, then the deviations
    that need their reason."""
    if not problems and not mismatches:
        return
    field_errors: dict[str, list[str]] = {}
    for mismatch in mismatches:
        field_errors.setdefault(mismatch.field, []).append(mismatch.text)
    if problems:
        field_errors.setdefault("deviation_reason", []).extend(problems)
    message = " ".join(problems)
    if mismatches:
        texts = " ".join(m.text for m in mismatches)
        message = f"Bedside check failed, do not infuse this bag: {texts} {message}".strip()
    raise DomainError(message, field_errors=field_errors)


def _bedside_check(infusion: Infusion, patient: Patient) -> list[chain.Mismatch]:
    """The bag's label against the patient and the batch (dosing.chain.bedside_mismatches);
    links the course to its batch when they match. The batch row stays locked until the
    course is saved: a bag is infused once."""
    number = (infusion.batch_number or "").strip()
    batch = (
        ManufacturingBatch.objects.select_for_update(of=("self",))
        .select_related("patient")
        .filter(batch_number__iexact=number)
        .first()
        if number
        else None
    )
    if batch is None:
        return bedside_check(infusion, patient=patient, batch=None, tests=[], used=None)
    used = (
        Infusion.objects.filter(batch=batch, status=Infusion.GIVEN)
        .exclude(pk=infusion.pk)
        .values_list("course_number", flat=True)
        .first()
    )
    return bedside_check(
        infusion, patient=patient, batch=batch, tests=batch.release_tests.all(), used=used
    )


def bedside_check(
    infusion: Infusion, *, patient: Patient, batch, tests, used: int | None
) -> list[chain.Mismatch]:
    """The bedside check of `batch` (its release `tests`, the course that infused it already,
    `used`), from what the caller read; links the course to the batch when nothing mismatches
    (the synthetic trial's bulk path passes them from memory)."""
    number = (infusion.batch_number or "").strip()
    infusion.batch_number = number
    state = None
    if batch is not None:
        results = [t.as_result() for t in tests]
        state = chain.BatchState(
            batch_number=batch.batch_number,
            study_id=batch.patient.study_id,
            released_at=batch.released_at,
            expires_at=batch.expires_at,
            cells_total=batch.cells_total,
            release_problems=tuple(
                chain.release_problems(
                    results,
                    expires_at=batch.expires_at,
                    at=infusion.infused_at,
                    volume_ml=batch.volume_ml,
                    weight_kg=infusion.weight_kg,
                )
            ),
            infused_in_course=used,
        )
    mismatches = chain.bedside_mismatches(
        label=chain.BagLabel(
            study_id=infusion.bag_study_id or "",
            date_of_birth=infusion.bag_date_of_birth,
            batch_number=number,
        ),
        study_id=patient.study_id,
        date_of_birth=patient.screening.date_of_birth,
        batch=state,
        infused_at=infusion.infused_at,
        computed_dose_cells=infusion.computed_dose_cells,
        cells_infused=infusion.cells_infused,
    )
    infusion.batch = None if mismatches else batch
    return mismatches


_GIVEN_FIELDS = (
    "infused_at",
    "weight_kg",
    "target_cells_per_m2",
    "cells_infused",
    "batch_number",
    "bag_study_id",
    "bag_date_of_birth",
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
    # a course recorded before the bedside check existed is checked once its bag is corrected
    bedside = infusion.batch_id is not None or bool(set(changes) & set(BEDSIDE_FIELDS))
    errors = _validate_given(
        data, allocation=infusion.patient.allocation, previous=previous, bedside=bedside
    )
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
    mismatches = _bedside_check(infusion, infusion.patient) if bedside else []
    _refuse(problems, mismatches)
    try:
        with transaction.atomic():
            infusion.save_with_reason(reason, by=by)
    except IntegrityError:
        raise DomainError(
            f"Batch {infusion.batch_number} was infused in another course meanwhile; reload."
        ) from None
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
    return exposure_of(
        list(Infusion.objects.filter(patient=patient).order_by("course_number")),
        InfusionSchedule.objects.filter(patient=patient).first(),
    )


def exposure_of(infusions: list[Infusion], schedule: InfusionSchedule | None) -> rules.Exposure:
    """The exposure of a patient's infusions (in course order) under its schedule."""
    records = [
        rules.CourseRecord(
            number=i.course_number,
            planned_on=i.planned_date,
            given_on=timezone.localdate(i.infused_at) if i.status == Infusion.GIVEN else None,
            cells_infused=i.cells_infused or 0,
        )
        for i in infusions
    ]
    first_given = next((i for i in infusions if i.status == Infusion.GIVEN), None)
    reference = (
        rules.cell_dose(target_cells_per_m2=schedule.target_cells_per_m2, bsa=first_given.bsa_m2)
        if schedule and first_given
        else None
    )
    return rules.exposure(records, reference_dose=reference)


# -- the cell product's chain of identity (RPI arm): apheresis, batches, release -------------


def _apheresis_errors(data: dict, *, allocation) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    day, volume = data.get("date"), data.get("volume_ml")
    randomized_on = timezone.localdate(allocation.randomized_at)
    if day is None:
        errors["date"] = ["Required."]
    elif day > timezone.localdate():
        errors["date"] = ["Cannot be in the future."]
    elif day < randomized_on:
        errors["date"] = [
            f"Cannot be before randomization ({shown(randomized_on)}): the apheresis is for "
            "the iNKT cells of the RPI arm."
        ]
    if volume is None:
        errors["volume_ml"] = ["Required."]
    elif volume <= 0:
        errors["volume_ml"] = ["Must be positive."]
    return errors


APHERESIS_FIELDS = ("date", "volume_ml", "site", "notes")


@transaction.atomic
def apheresis_record(*, patient: Patient, by, **data) -> Apheresis:
    """The leukapheresis of an RPI patient (the RP arm receives no iNKT cells)."""
    patient = (
        Patient.objects.select_for_update(of=("self",))
        .select_related("allocation")
        .get(pk=patient.pk)
    )
    allocation = _require_rpi(patient)
    unknown = sorted(set(data) - set(APHERESIS_FIELDS))
    if unknown:
        raise DomainError(field_errors={f: ["Unknown field."] for f in unknown})
    errors = _apheresis_errors(data, allocation=allocation)
    if errors:
        raise DomainError("The apheresis was not recorded.", field_errors=errors)
    record = Apheresis(patient=patient, recorded_by=by, **data)
    record._history_user = by
    record.save()
    return record


@transaction.atomic
def apheresis_correct(*, apheresis: Apheresis, by, reason: str, **changes) -> Apheresis:
    apheresis = (
        Apheresis.objects.select_for_update(of=("self",))
        .select_related("patient__allocation")
        .get(pk=apheresis.pk)
    )
    apply_changes(apheresis, changes, APHERESIS_FIELDS)
    errors = _apheresis_errors(
        {f: getattr(apheresis, f) for f in APHERESIS_FIELDS},
        allocation=apheresis.patient.allocation,
    )
    earliest = apheresis.batches.order_by("manufactured_on").first()
    if earliest is not None and apheresis.date > earliest.manufactured_on:
        errors.setdefault("date", []).append(
            f"Batch {earliest.batch_number} was manufactured from it on "
            f"{shown(earliest.manufactured_on)}."
        )
    if errors:
        raise DomainError("The correction was refused.", field_errors=errors)
    apheresis.save_with_reason(reason, by=by)
    return apheresis


BATCH_FIELDS = ("batch_number", "manufactured_on", "expires_at", "cells_total", "volume_ml")


def _batch_errors(data: dict, *, apheresis: Apheresis, pk=None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field in BATCH_FIELDS:
        if data.get(field) in (None, ""):
            errors[field] = ["Required."]
    number = (data.get("batch_number") or "").strip()
    if number and (
        ManufacturingBatch.objects.filter(batch_number__iexact=number).exclude(pk=pk).exists()
    ):
        errors["batch_number"] = [f"Batch {number} is already recorded."]
    made = data.get("manufactured_on")
    if made is not None:
        if made < apheresis.date:
            errors["manufactured_on"] = [
                f"Cannot be before the apheresis ({shown(apheresis.date)})."
            ]
        elif made > timezone.localdate():
            errors["manufactured_on"] = ["Cannot be in the future."]
    expires = data.get("expires_at")
    if made is not None and expires is not None and timezone.localdate(expires) <= made:
        errors.setdefault("expires_at", []).append("Must be after the day of manufacture.")
    for field in ("cells_total", "volume_ml"):
        if data.get(field) is not None and data[field] <= 0:
            errors.setdefault(field, []).append("Must be positive.")
    return errors


@transaction.atomic
def batch_record(*, apheresis: Apheresis, by, **data) -> ManufacturingBatch:
    """A bag manufactured from the apheresis, under its batch number (as on the label)."""
    apheresis = Apheresis.objects.select_related("patient").get(pk=apheresis.pk)
    unknown = sorted(set(data) - set(BATCH_FIELDS))
    if unknown:
        raise DomainError(field_errors={f: ["Unknown field."] for f in unknown})
    data["batch_number"] = (data.get("batch_number") or "").strip()
    errors = _batch_errors(data, apheresis=apheresis)
    if errors:
        raise DomainError("The batch was not recorded.", field_errors=errors)
    batch = ManufacturingBatch(
        apheresis=apheresis, patient=apheresis.patient, recorded_by=by, **data
    )
    batch._history_user = by
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError:
        raise DomainError(
            field_errors={"batch_number": [f"Batch {data['batch_number']} is already recorded."]}
        ) from None
    return batch


@transaction.atomic
def batch_correct(*, batch: ManufacturingBatch, by, reason: str, **changes) -> ManufacturingBatch:
    """Correct a batch. Its release stays; the bedside check judges the corrected values."""
    batch = (
        ManufacturingBatch.objects.select_for_update(of=("self",))
        .select_related("apheresis")
        .get(pk=batch.pk)
    )
    if "batch_number" in changes:
        changes["batch_number"] = (changes["batch_number"] or "").strip()
        infused = batch.infusions.exists()
        if infused and changes["batch_number"] != batch.batch_number:
            raise DomainError(
                field_errors={"batch_number": ["The bag was infused under this number."]}
            )
    apply_changes(batch, changes, BATCH_FIELDS)
    errors = _batch_errors(
        {f: getattr(batch, f) for f in BATCH_FIELDS}, apheresis=batch.apheresis, pk=batch.pk
    )
    if errors:
        raise DomainError("The correction was refused.", field_errors=errors)
    batch.save_with_reason(reason, by=by)
    return batch


def latest_weight_kg(patient: Patient):
    """The patient's latest weight: of the last course given, else of the screening."""
    weight = (
        Infusion.objects.filter(patient=patient, status=Infusion.GIVEN)
        .order_by("-course_number")
        .values_list("weight_kg", flat=True)
        .first()
    )
    return weight if weight is not None else patient.screening.weight_kg


def release_problems(batch: ManufacturingBatch, *, at) -> list[str]:
    """Why the batch may not be released at `at` (dosing.chain), the endotoxin dose judged at
    the patient's latest weight."""
    return chain.release_problems(
        [t.as_result() for t in batch.release_tests.all()],
        expires_at=batch.expires_at,
        at=at,
        volume_ml=batch.volume_ml,
        weight_kg=latest_weight_kg(batch.patient),
    )


RELEASE_TEST_FIELDS = ("assay", "result_passed", "value", "method", "tested_on")


def _judge_release_test(test: ReleaseTest, *, weight_kg=None) -> None:
    """Check one release test's entry and derive its unit and pass (the endotoxin dose at
    `weight_kg`, by default the patient's latest weight)."""
    errors: dict[str, list[str]] = {}
    try:
        assay = chain.Assay(test.assay)
    except ValueError:
        raise DomainError(field_errors={"assay": ["Unknown test."]}) from None
    if assay in chain.PASS_FAIL_ASSAYS:
        if test.result_passed is None:
            errors["result_passed"] = ["Pass (no growth / negative) or fail."]
        test.value = None
    else:
        test.result_passed = None
        if test.value is None:
            errors["value"] = [f"The measured value ({chain.UNITS[assay]})."]
        elif test.value < 0 or (chain.UNITS[assay] == "%" and test.value > 100):
            errors["value"] = ["Between 0 and 100 %." if chain.UNITS[assay] == "%" else "≥ 0."]
    if test.tested_on is None:
        errors["tested_on"] = ["Required."]
    elif test.tested_on > timezone.localdate():
        errors["tested_on"] = ["Cannot be in the future."]
    elif test.tested_on < test.batch.apheresis.date:
        errors["tested_on"] = [
            f"Cannot be before the apheresis ({shown(test.batch.apheresis.date)})."
        ]
    if errors:
        raise DomainError("The release test was refused.", field_errors=errors)
    test.unit = chain.UNITS.get(assay, "")
    test.passed = chain.passes(
        test.as_result(),
        volume_ml=test.batch.volume_ml,
        weight_kg=weight_kg if weight_kg is not None else latest_weight_kg(test.batch.patient),
    )


@transaction.atomic
def release_test_record(*, batch: ManufacturingBatch, by, **data) -> ReleaseTest:
    """One release test of a batch; a retest corrects it (with the reason)."""
    batch = (
        ManufacturingBatch.objects.select_for_update(of=("self",))
        .select_related("apheresis", "patient__screening")
        .get(pk=batch.pk)
    )
    unknown = sorted(set(data) - set(RELEASE_TEST_FIELDS))
    if unknown:
        raise DomainError(field_errors={f: ["Unknown field."] for f in unknown})
    if batch.release_tests.filter(assay=data.get("assay")).exists():
        raise DomainError(
            field_errors={
                "assay": ["Already recorded for this batch: correct it, with the reason."]
            }
        )
    test = ReleaseTest(batch=batch, recorded_by=by, method=data.pop("method", "") or "", **data)
    _judge_release_test(test)
    test._history_user = by
    test.save()
    return test


@transaction.atomic
def release_test_correct(*, release_test: ReleaseTest, by, reason: str, **changes) -> ReleaseTest:
    test = (
        ReleaseTest.objects.select_for_update(of=("self",))
        .select_related("batch__apheresis", "batch__patient__screening")
        .get(pk=release_test.pk)
    )
    apply_changes(test, changes, ("result_passed", "value", "method", "tested_on"))
    _judge_release_test(test)
    test.save_with_reason(reason, by=by)
    return test


RELEASE_REASON = "Released for infusion"


@transaction.atomic
def batch_release(*, batch: ManufacturingBatch, by, released_at=None) -> ManufacturingBatch:
    """The investigator releases a batch for infusion: every release test recorded and
    passing, not expired (dosing.chain.release_problems)."""
    batch = (
        ManufacturingBatch.objects.select_for_update(of=("self",))
        .select_related("patient__screening")
        .get(pk=batch.pk)
    )
    if batch.released_at is not None:
        raise DomainError(
            f"Batch {batch.batch_number} was released on "
            f"{timezone.localtime(batch.released_at):%Y-%m-%d %H:%M}."
        )
    # to the minute, as the times of a course are typed: a bag released at 10:30:40 may be
    # infused at 10:30
    at = released_at or timezone.now().replace(second=0, microsecond=0)
    if at > timezone.now():
        raise DomainError(field_errors={"released_at": ["Cannot be in the future."]})
    if timezone.localdate(at) < batch.manufactured_on:
        raise DomainError(
            field_errors={"released_at": ["Cannot be before the day of manufacture."]}
        )
    problems = release_problems(batch, at=at)
    if problems:
        raise DomainError(
            f"Batch {batch.batch_number} cannot be released: {' '.join(problems)}",
            field_errors={"released_at": problems},
        )
    batch.released_at, batch.released_by = at, by
    batch.save_with_reason(RELEASE_REASON, by=by)
    return batch
