"""What the outcome pages read: the CONSORT flow drawn from the data."""

from collections import Counter
from datetime import datetime, time, timedelta

from django.utils import timezone

from assessments import reads as read_rules
from assessments import series_store
from assessments.models import Adjudication, Questionnaire, ReaderAssignment
from assessments.services import signed_reads
from dosing.models import DrugExposure, Infusion
from dosing.selectors import dose_spans, first_doses
from enrollment import course, status
from enrollment import eligibility as el
from enrollment.models import EligibilityViolation, StatusChange
from outcomes import sdtm, sdtm_domains
from randomization import reports
from randomization import selectors as randomization_selectors
from randomization.models import Allocation
from randomization.protocol import RPI
from randomization.selectors import arm_shown, can_see_arms
from safety import susar
from safety.models import AdverseEvent, LabValue
from safety.selectors import emergent


def consort_flow(user, cutoff=None) -> dict:
    """CONSORT 2010 (Schulz 2010): enrolment (assessed, excluded with reasons), allocation
    (randomized per arm; received the allocated treatment or not: for a masked reader, a drug
    both arms receive), follow-up (treatment
    discontinued with reasons, deaths) and analysis (everyone randomized: intention to treat).
    Arms as the user may see them. At a cut-off (the DSMB report's): what had happened by then
    (screened, randomized, first dose, stops, deaths, withdrawals, violations found and not yet
    resolved, each by its date). A fixed number of queries."""
    allocations = list(Allocation.objects.select_related("slot"))
    changes = StatusChange.objects.all()
    violations = EligibilityViolation.objects.all()
    if cutoff is not None:
        allocations = [a for a in allocations if timezone.localdate(a.randomized_at) <= cutoff]
        changes = changes.filter(date__lte=cutoff)
        violations = violations.filter(found_on__lte=cutoff).exclude(resolved_on__lte=cutoff)
    else:
        violations = violations.filter(resolved_on=None)
    base = reports.consort(
        randomization_selectors.screening_rows(cutoff), [arm_shown(user, a) for a in allocations]
    )
    # received: a first dose (for a reader who may not see arms, of a drug both arms receive,
    # as their safety population: an iNKT course alone would set the iNKT arm apart)
    doses = first_doses(shared_only=not can_see_arms(user))
    treated = {pid for pid, day in doses.items() if cutoff is None or day <= cutoff}
    ended = _discontinued(allocations, cutoff)
    dead = set(changes.filter(kind=status.DEATH).values_list("patient_id", flat=True))
    lost = set(
        changes.filter(
            kind__in=(status.LOST, status.WITHDRAWAL_ALL, status.WITHDRAWAL_TREATMENT)
        ).values_list("patient_id", flat=True)
    )
    violations = set(violations.values_list("patient_id", flat=True))
    arms: dict[str, dict] = {}
    for allocation in allocations:
        arm = arms.setdefault(
            arm_shown(user, allocation),
            {
                "allocated": 0,
                "received": 0,
                "not_received": 0,
                "discontinued": Counter(),
                "on_treatment": 0,
                "died": 0,
                "eligibility_violations": 0,
                "lost_or_withdrawn": 0,
                "analysed": 0,
            },
        )
        pid = allocation.patient_id
        arm["allocated"] += 1
        arm["analysed"] += 1
        if pid in treated:
            arm["received"] += 1
        else:
            arm["not_received"] += 1
        arm["eligibility_violations"] += pid in violations
        if pid in ended:
            arm["discontinued"][ended[pid]] += 1
        elif pid in treated:
            arm["on_treatment"] += 1
        arm["died"] += pid in dead
        arm["lost_or_withdrawn"] += pid in lost
    for arm in arms.values():
        arm["discontinued_total"] = sum(arm["discontinued"].values())
        arm["discontinued"] = sorted(arm["discontinued"].items())
    excluded = [
        (el.CRITERIA[code].failure_text if code in el.CRITERIA else code, count)
        for code, count in base["excluded_by_reason"].items()
    ]
    return {**base, "excluded_reasons": excluded, "arms": sorted(arms.items())}


def _discontinued(allocations, cutoff=None) -> dict:
    """Patient id -> why their study treatment was discontinued (enrollment.status
    .discontinued), from every stop enrollment.course knows (at a cut-off: the stops by then).
    A fixed number of queries."""
    stops = course.treatment_stops_of([a.patient_id for a in allocations])
    out = {}
    for allocation in allocations:
        drugs = status.drugs_of_arm(allocation.arm == RPI)
        by_drug = {
            drug: stop if stop is None or cutoff is None or stop.day <= cutoff else None
            for drug, stop in stops[allocation.patient_id].items()
        }
        reason = status.discontinued(by_drug, drugs)
        if reason is not None:
            out[allocation.patient_id] = reason
    return out


def sdtm_records(cutoff) -> tuple[list[sdtm.Event], list[sdtm.Dose]]:
    """The adverse events (onset) and study drug doses (given or started) up to a cut-off, for
    the SDTM AE and EX domains (outcomes/sdtm.py) and ADaM ADAE (outcomes/adae.py: treatment
    emergence as the safety tables at a cut-off decide it, outcomes/dsmb_selectors
    .safety_tables). A fixed number of queries, whatever the number of patients."""
    spans, shared = dose_spans(), dose_spans(shared_only=True)
    events = [
        sdtm.Event(
            key=e.patient.study_id,
            term=e.term.term,
            soc=e.term.soc,
            grade=e.grade,
            onset=e.onset,
            specification=e.specification,
            resolution=e.resolution if e.resolution and e.resolution <= cutoff else None,
            outcome=e.outcome,
            serious=e.serious,
            death_date=e.death_date if e.death_date and e.death_date <= cutoff else None,
            relationships={d: getattr(e, f"relationship_{d}") for d in sdtm.DRUG_NAMES},
            actions={d: getattr(e, f"action_{d}") for d in sdtm.DRUG_NAMES},
            emergent=_dosed_by(spans.get(e.patient_id), cutoff)
            and emergent(e, spans.get(e.patient_id)),
            shared_emergent=_dosed_by(shared.get(e.patient_id), cutoff)
            and emergent(e, shared.get(e.patient_id)),
            astct_grade=e.astct_grade,
            susar_drugs=_susar_drugs(e),
            narrative=e.narrative,
        )
        for e in AdverseEvent.objects.filter(onset__lte=cutoff).select_related("patient", "term")
    ]
    end = timezone.make_aware(datetime.combine(cutoff + timedelta(days=1), time.min))
    doses = [
        sdtm.Dose(
            key=i.patient.study_id,
            drug=sdtm.INKT,
            start=timezone.localtime(i.infused_at).replace(tzinfo=None),
            dose=i.cells_infused,
            unit="CELLS" if i.cells_infused is not None else "",
            route="iv",
            lot=i.batch_number,
        )
        for i in Infusion.objects.filter(status=Infusion.GIVEN, infused_at__lt=end).select_related(
            "patient"
        )
    ]
    doses += [
        sdtm.Dose(
            key=d.patient.study_id,
            drug=d.drug,
            start=d.start_date,
            end=d.start_date
            if d.event == "administration"
            else d.end_date
            if d.end_date and d.end_date <= cutoff
            else None,
            dose=float(d.dose) if d.dose is not None else None,
            unit=d.unit,
            route=d.route,
            product=d.product,
        )
        for d in DrugExposure.objects.filter(start_date__lte=cutoff)
        .exclude(event="interruption")
        .select_related("patient")
    ]
    return events, doses


def _dosed_by(span, cutoff) -> bool:
    return span is not None and span[0] is not None and span[0] <= cutoff


def _susar_drugs(event) -> tuple[str, ...]:
    """The drugs a SUSAR is suspected of and unexpected for (safety/susar.py)."""
    if event.susar_status != susar.SUSAR:
        return ()
    suspects = susar.suspected_drugs({d: getattr(event, f"relationship_{d}") for d in susar.DRUGS})
    return tuple(d for d in suspects if getattr(event, f"expectedness_{d}") == "unexpected")


def sdtm_domain_records(cutoff) -> tuple[list, list, list]:
    """(the treatment stops of the randomized patients, the QLQ-C30 questionnaires, the
    laboratory values) dated up to a cut-off, for SDTM DS, QS and LB (outcomes/sdtm_domains.py).
    A fixed number of queries, whatever the number of patients."""
    patients = dict(Allocation.objects.values_list("patient_id", "patient__study_id"))
    stops = [
        sdtm_domains.Stop(key=patients[pid], drug=drug, day=stop.day, reason=stop.reason)
        for pid, by_drug in course.treatment_stops_of(list(patients)).items()
        for drug, stop in by_drug.items()
        if stop is not None and stop.day <= cutoff
    ]
    questionnaires = [
        sdtm_domains.Answers(
            key=q.patient.study_id, visit=q.visit, day=q.completed_on, answers=q.answers
        )
        for q in Questionnaire.objects.filter(completed_on__lte=cutoff).select_related("patient")
    ]
    values = [
        sdtm_domains.Lab(
            key=v.visit.patient.study_id,
            test=v.test,
            day=v.visit.visit_date,
            visit_kind=v.visit.kind,
            visit_number=v.visit.number,
            value_entered=v.value_entered,
            unit_entered=v.unit_entered,
            value=v.value,
            lln=v.lln,
            uln=v.uln,
            grade=v.grade,
        )
        for v in LabValue.objects.filter(visit__visit_date__lte=cutoff).select_related(
            "visit__patient"
        )
    ]
    return stops, questionnaires, values


def imaging_records(cutoff) -> list[sdtm_domains.Imaging]:
    """The accepted imaging series of each randomized patient up to a cut-off, with the accepted
    reader's signed reads (assessments.reads.accepted_reads: the readers' own when they agree,
    else the adjudicated reader's; the longest settled extent while a discordance awaits, as the
    endpoint run takes it, outcomes/snapshot.settled_series), for SDTM TU, TR and RS. A fixed
    number of queries, whatever the number of patients."""
    allocations = {
        a.patient_id: (a.patient.study_id, timezone.localdate(a.randomized_at))
        for a in Allocation.objects.select_related("patient")
    }
    pairs: dict[int, list[int]] = {}
    for pk, pid in (
        ReaderAssignment.objects.filter(patient_id__in=list(allocations))
        .order_by("patient_id", "slot")
        .values_list("pk", "patient_id")
    ):
        pairs.setdefault(pid, []).append(pk)
    reads = signed_reads([pk for pks in pairs.values() for pk in pks])
    adjudications: dict[int, list] = {}
    for pid, until, slot in Adjudication.objects.values_list(
        "patient_id", "covers_until", "accepted_slot"
    ):
        adjudications.setdefault(pid, []).append((until, slot))
    stored = series_store.evaluations(pairs)
    out = []
    for pid, pair in sorted(pairs.items()):
        if len(pair) != 2:
            continue
        key, start = allocations[pid]
        try:
            found = read_rules.accepted_reads(
                reads[pair[0]],
                reads[pair[1]],
                adjudications.get(pid, []),
                enrolled=start,
                cutoff=cutoff,
                earlier_extent=True,
                evaluate=stored.evaluate_criteria,
            )
        except read_rules.ReadError:
            continue
        if found is not None:
            series, accepted = found
            out.append(sdtm_domains.Imaging(key=key, reads=accepted, series=series))
    return out
