"""Every write of the safety app: keyword-only functions, one transaction each."""

from django.db import transaction
from django.utils import timezone

from enrollment import course
from enrollment.dates import shown
from enrollment.models import Patient
from inkt_trial.audit import apply_changes
from inkt_trial.errors import DomainError
from randomization.protocol import RPI
from safety import crs, ctcae, rules, susar
from safety.models import DRUGS, EXPECTEDNESS, RELATIONSHIP, AdverseEvent, SaeReport

ENTERED = (
    "term",
    "specification",
    "grade",
    "onset",
    "resolution",
    "outcome",
    "death_date",
    "serious_criteria",
    "awareness_at",
    "initial_report_at",
    "action_inkt",
    "action_pd1",
    "action_regorafenib",
    "infusion",
    "astct_inputs",
    "narrative",
    "susar_report_at",
    "susar_follow_up_at",
)


def _local(moment):
    """The site's wall-clock time, as the pure rules compare it."""
    return moment and timezone.localtime(moment).replace(tzinfo=None)


def _day(moment):
    return moment and timezone.localdate(moment)


def _astct(event: AdverseEvent, *, grade_given: bool) -> dict[str, list[str]]:
    """CRS and ICANS take the ASTCT grade of their inputs (safety/crs.py): a grade left out
    is the computed one; a different grade given is refused, never changed (grade 5 aside, the
    CTCAE grade of a death). Field errors are named astct_<input>."""
    inputs = event.astct_inputs
    if inputs in (None, ""):
        inputs = event.astct_inputs = {}
    syndrome = crs.syndrome_of(event.term.term, event.specification or "")
    if syndrome is None:
        event.astct_grade = None
        if inputs:
            return {"astct_inputs": ["ASTCT inputs are for cytokine release syndrome or ICANS."]}
        return {}
    if not isinstance(inputs, dict):
        return {"astct_inputs": ["The ASTCT inputs, by name."]}
    try:
        computed = crs.grade_of(syndrome, inputs)
    except crs.NotGradable as problem:
        return {f"astct_{key}": messages for key, messages in problem.errors.items()}
    event.astct_grade = computed
    if not grade_given or event.grade is None:
        event.grade = computed
    elif event.grade not in (computed, 5):
        name = "CRS" if syndrome == crs.CRS else "ICANS"
        return {
            "grade": [
                f"The ASTCT {name} grade of these inputs is {computed}, not {event.grade}: "
                f"choose grade {computed} (or leave the grade out), or correct the inputs."
            ]
        }
    return {}


def _susar(event: AdverseEvent) -> dict[str, list[str]]:
    """The SUSAR status derived from seriousness, causality and expectedness; the expedited
    report's dates checked against it."""
    event.susar_status = susar.susar_status(
        serious=event.serious,
        relationships={d: getattr(event, f"relationship_{d}") for d in DRUGS},
        expectedness={d: getattr(event, f"expectedness_{d}") for d in DRUGS},
    )
    is_susar = event.susar_status == susar.SUSAR
    reported_before = bool(
        event.pk
        and not is_susar
        and AdverseEvent.objects.filter(pk=event.pk, susar_report_at__isnull=False).exists()
    )
    return susar.check_reports(
        susar=is_susar,
        reported_before=reported_before,
        aware=_day(event.awareness_at),
        reported=_day(event.susar_report_at),
        followed_up=_day(event.susar_follow_up_at),
        fatal_or_life_threatening=event.fatal_or_life_threatening,
        narrative=event.narrative or "",
        today=timezone.localdate(),
    )


def derive(
    event: AdverseEvent,
    *,
    consent,
    arm: str | None,
    grade_given: bool = True,
    first_follow_up=None,
) -> dict[str, list[str]]:
    """The event's derived fields (the ASTCT grade, seriousness, the iNKT fields of an RP
    patient, the SUSAR status) and the problems the rules find without the patient's course
    (the database is read only for a saved event's reports): the services add the course
    (_check); the synthetic trial's bulk path gives the same facts from memory."""
    term = event.term
    astct_errors = _astct(event, grade_given=grade_given)
    if event.grade is None:  # no grade, and none computed from ASTCT inputs
        errors = astct_errors or {"grade": ["Required."]}
        raise DomainError("The adverse event was not saved.", field_errors=errors)
    facts = rules.Event(
        grade=event.grade,
        grades_defined=tuple(term.grades),
        onset=event.onset,
        resolution=event.resolution,
        serious_criteria=tuple(event.serious_criteria or ()),
        specification=event.specification,
        needs_specification=ctcae.Term(
            term.meddra_code, term.soc, term.term, term.grades, term.definition
        ).needs_specification,
        death_date=event.death_date,
        outcome=event.outcome,
    )
    errors = rules.check_event(facts, consent=consent, today=timezone.localdate())
    serious = bool(event.serious_criteria)
    for field, problems in rules.check_sae_times(
        onset=event.onset,
        serious=serious,
        awareness=_local(event.awareness_at),
        initial_report=_local(event.initial_report_at),
        now=_local(timezone.now()),
        first_follow_up=_local(first_follow_up),
    ).items():
        errors.setdefault(field, []).extend(problems)
    if arm != RPI and event.action_inkt not in ("none", "not_applicable"):
        errors.setdefault("action_inkt", []).append("This patient receives no iNKT cells.")
    for field, problems in astct_errors.items():
        errors.setdefault(field, []).extend(problems)
    event.serious = serious
    if arm != RPI:
        event.relationship_inkt = "not_applicable"
        event.action_inkt = "not_applicable"
        event.expectedness_inkt = "not_applicable"
    for field, problems in _susar(event).items():
        errors.setdefault(field, []).extend(problems)
    return errors


def _check(event: AdverseEvent, patient: Patient, *, grade_given: bool = True) -> None:
    allocation = getattr(patient, "allocation", None)
    first_follow_up = (
        event.reports.order_by("sent_at").values_list("sent_at", flat=True).first()
        if event.pk
        else None
    )
    errors = derive(
        event,
        consent=patient.screening.consent_date,
        arm=allocation and allocation.arm,
        grade_given=grade_given,
        first_follow_up=first_follow_up,
    )
    infusion = event.infusion
    if infusion is not None:
        if infusion.patient_id != patient.pk:
            problems = ["A course of another patient."]
        else:
            given = infusion.infused_at and timezone.localdate(infusion.infused_at)
            problems = rules.infusion_link_problems(onset=event.onset, infused_on=given)
        if problems:
            errors["infusion"] = problems
    death = course.death_date(patient.pk)
    for field in ("onset", "resolution", "death_date"):
        if field == "death_date" and death is not None:
            continue  # compared with the recorded death below
        day = getattr(event, field)
        if refused := course.refusal(patient.pk, day, what="adverse event"):
            errors.setdefault(field, []).append(refused)
    if event.grade == 5 and death is not None and event.death_date not in (None, death):
        errors.setdefault("death_date", []).append(
            f"The patient's status records the death on {shown(death)}."
        )
    if errors:
        raise DomainError("The adverse event was not saved.", field_errors=errors)


@transaction.atomic
def ae_record(*, patient: Patient, by, **data) -> AdverseEvent:
    patient = Patient.objects.select_related("screening", "allocation").get(pk=patient.pk)
    event = AdverseEvent(
        patient=patient, recorded_by=by, **{k: v for k, v in data.items() if k in ENTERED}
    )
    _check(event, patient, grade_given=data.get("grade") is not None)
    event._history_user = by
    event.save()
    return event


@transaction.atomic
def ae_correct(*, event: AdverseEvent, by, reason: str, **changes) -> AdverseEvent:
    event = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    apply_changes(event, changes, ENTERED)
    _check(
        event,
        Patient.objects.select_related("screening", "allocation").get(pk=event.patient_id),
        grade_given=changes.get("grade") is not None,
    )
    event.save_with_reason(reason, by=by)
    return event


def proposed_expectedness(event: AdverseEvent) -> dict[str, str]:
    """What the system proposes per drug: expected when the drug's reference safety
    information lists the term (safety/susar.py); the investigator decides."""
    return {
        d: susar.proposed_expectedness(d, event.term.term, event.specification)
        for d in DRUGS
        if getattr(event, f"relationship_{d}") != "not_applicable"
    }


@transaction.atomic
def ae_assess_causality(*, event: AdverseEvent, by, reason: str = "", **relationships):
    """The investigator's assessment of the relationship to each study treatment and of the
    event's expectedness for each (against the reference safety information); the SUSAR status
    follows."""
    event = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    allowed = set(dict(RELATIONSHIP)) - {"not_assessed", "not_applicable"}
    errors = {}
    keys = {f"{kind}_{d}" for d in DRUGS for kind in ("relationship", "expectedness")}
    unknown = sorted(set(relationships) - keys)
    for key in unknown:
        errors[key] = ["Not a study treatment."]
    for drug in DRUGS:
        key = f"expectedness_{drug}"
        value = relationships.get(key)
        if value is None:
            continue
        if getattr(event, key) == "not_applicable":
            if value != "not_applicable":
                errors[key] = ["This patient receives no iNKT cells."]
        elif value not in set(dict(EXPECTEDNESS)) - {"not_applicable"}:
            errors[key] = ["Expected, unexpected or not yet assessed."]
        else:
            setattr(event, key, value)
    for drug in DRUGS:
        key = f"relationship_{drug}"
        value = relationships.get(key)
        if value is None:
            continue
        if getattr(event, key) == "not_applicable":
            if value != "not_applicable":
                errors[key] = ["This patient receives no iNKT cells."]
        elif value not in allowed:
            errors[key] = ["Choose the relationship."]
        else:
            setattr(event, key, value)
    for field, problems in _susar(event).items():
        errors.setdefault(field, []).extend(problems)
    if errors:
        raise DomainError(field_errors=errors)
    event.save_with_reason(reason or "Causality assessed by the investigator", by=by)
    return event


def overdue_saes(*, now):
    """Serious events whose initial report is missing past 24 hours from awareness (the
    database picks them: the dashboard reads no other event)."""
    return list(
        AdverseEvent.objects.filter(
            serious=True,
            initial_report_at=None,
            awareness_at__lt=rules.sae_unreported_overdue_if_aware_before(now),
        ).select_related("patient", "term")
    )


@transaction.atomic
def sae_report_record(*, event: AdverseEvent, by, kind: str, sent_at, information: str):
    """A follow-up or final report of a serious adverse event."""
    event = AdverseEvent.objects.select_for_update().get(pk=event.pk)
    errors = {}
    if kind not in dict(SaeReport.KINDS):
        errors["kind"] = ["Follow-up or final."]
    if not (information or "").strip():
        errors["information"] = ["Say what the report adds."]
    final = event.reports.filter(kind=SaeReport.FINAL).first()
    last = event.reports.order_by("-sent_at").values_list("sent_at", flat=True).first()
    for field, problems in rules.check_follow_up(
        serious=event.serious,
        kind=kind,
        last_sent=_local(last),
        initial_report=_local(event.initial_report_at),
        sent=_local(sent_at),
        now=_local(timezone.now()),
        final_sent=_local(final.sent_at) if final else None,
    ).items():
        errors.setdefault(field, []).extend(problems)
    if errors:
        raise DomainError("The report was not saved.", field_errors=errors)
    report = SaeReport(
        event=event, kind=kind, sent_at=sent_at, information=information.strip(), recorded_by=by
    )
    report._history_user = by
    report.save()
    return report
