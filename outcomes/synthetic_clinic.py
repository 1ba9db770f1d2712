"""The clinical side of a synthetic trial (issue 15): medical history and concomitant
medications, clinical visits with ECOG, vital signs and graded laboratory values (the proposed
adverse events accepted, dismissed or left pending), CRS and ICANS graded by ASTCT, and SUSARs
with their expedited-report clocks. Every record through the products' services, at the date it
would have been made (time-machine), deterministically: each patient draws from its own
generator seeded by the trial's seed and the patient's rank, so the rest of the synthetic trial
(outcomes/synthetic.py) is the same with or without it.

Visits are screening and study-week visits only, on one schedule for both arms: course visits
exist only in the iNKT arm (masked readers read them by study week, but their two-weekly rhythm
would still set that arm apart).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from dosing.models import Infusion
from enrollment import course
from enrollment import medication_services as medications
from enrollment.models import ConcomitantMedication
from safety import crs, visits
from safety import services as safety
from safety.models import CtcaeTerm, ProposedAdverseEvent

WEEKS = (2, 4, 8, 12, 16, 24, 32, 40, 48)
D = Decimal
# Patients by rank (their order of randomization): whose values show what a demo must show.
HEPATOTOXICITY = 1  # rank % 10: ALT > 5 x ULN under regorafenib (grade 3), accepted
PLATELET_ARTEFACT = 3  # this rank only: platelets < 50 from a clumped sample, dismissed
THROMBOCYTOPENIA = 6  # rank % 10: platelets < 50, accepted
ARTEFACT_REASON = (
    "Platelet clumping in the EDTA sample (laboratory comment); the repeat count in a citrate "
    "tube the same day was 121 x 10^9/L."
)


@dataclass
class Course:
    """What the generator knows of one patient, for the showcase made at the end."""

    patient: object
    rank: int
    arm: str
    randomized_on: date
    end_day: date  # the last day on treatment (the scan showing progression, or death)
    death: date
    hbv_antiviral: ConcomitantMedication | None = None
    visit_days: list[date] = field(default_factory=list)


def _d(value: float, places: int = 1) -> Decimal:
    return D(str(round(value, places)))


def _alive_through(patient, day: date) -> bool:
    return course.refusal(patient.pk, day, what="record") is None


# Medical history and medications ---------------------------------------------------------------


# Chronic conditions and their treatment: (chance, condition, years since onset, drug, dose in
# mg, frequency, ATC code).
CHRONIC = (
    (0.35, "Hypertension", (2, 15), "Amlodipine", 5, "once daily", "C08CA01"),
    (0.2, "Type 2 diabetes mellitus", (2, 12), "Metformin", 500, "twice daily", "A10BA02"),
)


def history(rng: random.Random, *, screening, by, rank: int) -> ConcomitantMedication | None:
    """Hepatitis B (most; the first patient always), cirrhosis, hypertension, diabetes, and the
    medications they take; returns the HBV antiviral (for the showcase to stop one)."""
    day = screening.screening_date
    years_ago = rng.randint(6, 25)
    hbv = rank == 0 or rng.random() < 0.75
    antiviral = None
    if hbv:
        medications.history_record(
            screening=screening,
            by=by,
            condition="Chronic hepatitis B",
            start=str(day.year - years_ago),
            ongoing=True,
            details="HBsAg positive; HBV DNA below 20 IU/mL on antiviral therapy",
        )
        tenofovir = rng.random() < 0.2
        antiviral = medications.medication_record(
            screening=screening,
            by=by,
            name="Tenofovir alafenamide" if tenofovir else "Entecavir",
            indication="Chronic hepatitis B",
            dose=D(25) if tenofovir else D("0.5"),
            dose_unit="mg",
            route="oral",
            frequency="once daily",
            start_date=day - timedelta(days=365 * rng.randint(2, 8) + rng.randint(0, 300)),
            ongoing=True,
            atc_code="J05AF13" if tenofovir else "J05AF10",
        )
    if rng.random() < (0.8 if hbv else 0.5):
        medications.history_record(
            screening=screening,
            by=by,
            condition="Liver cirrhosis",
            start=f"{day.year - rng.randint(1, 6)}-{rng.randint(1, 12):02d}",
            ongoing=True,
            details="Child-Pugh A; no variceal bleeding",
        )
    for chance, condition, years, drug, dose, frequency, atc in CHRONIC:
        if rng.random() < chance:
            medications.history_record(
                screening=screening,
                by=by,
                condition=condition,
                start=str(day.year - rng.randint(*years)),
                ongoing=True,
            )
            medications.medication_record(
                screening=screening,
                by=by,
                name=drug,
                indication=condition,
                dose=D(dose),
                dose_unit="mg",
                route="oral",
                frequency=frequency,
                start_date=day - timedelta(days=rng.randint(400, 3000)),
                ongoing=True,
                atc_code=atc,
            )
    return antiviral


# Visits ---------------------------------------------------------------------------------------


@dataclass
class Baseline:
    haemoglobin: float
    platelets: float
    neutrophils: float
    alt: float
    ast: float
    alp: float
    afp: float
    ecog: int
    systolic: int


def baseline_visit(rng: random.Random, *, patient, by, day: date) -> Baseline:
    """The screening visit (the baseline every later value is graded against): the liver panel,
    haematology, creatinine, INR and AFP, with the screening form's liver and renal values."""
    screening = patient.screening
    base = Baseline(
        haemoglobin=rng.uniform(122, 152),
        platelets=rng.uniform(95, 240),
        neutrophils=rng.uniform(2.5, 5.0),
        alt=rng.uniform(16, 38),
        ast=rng.uniform(20, 39),
        alp=rng.uniform(70, 150),
        afp=math.exp(rng.uniform(math.log(8), math.log(4000))),
        ecog=0 if rng.random() < 0.6 else 1,
        systolic=rng.randint(112, 138),
    )
    values = [
        {"test": "haemoglobin", "value": _d(base.haemoglobin, 0), "unit": "g/L"},
        {"test": "platelets", "value": _d(base.platelets, 0), "unit": "10^9/L"},
        {"test": "neutrophils", "value": _d(base.neutrophils, 2), "unit": "10^9/L"},
        {"test": "wbc", "value": _d(base.neutrophils + rng.uniform(1.8, 3.0), 2), "unit": "10^9/L"},
        {"test": "alt", "value": _d(base.alt, 0), "unit": "U/L"},
        {"test": "ast", "value": _d(base.ast, 0), "unit": "U/L"},
        {"test": "alp", "value": _d(base.alp, 0), "unit": "U/L"},
        {"test": "inr", "value": screening.inr, "unit": "ratio"},
        {"test": "afp", "value": _d(base.afp, 1), "unit": "ng/mL"},
        {"test": "albumin", "value": screening.albumin, "unit": screening.albumin_unit},
        {
            "test": "bilirubin",
            "value": screening.bilirubin,
            "unit": screening.bilirubin_unit,
            "uln": screening.bilirubin_uln,
        },
    ]
    if screening.creatinine is not None:
        values.append(
            {
                "test": "creatinine",
                "value": screening.creatinine,
                "unit": screening.creatinine_unit,
            }
        )
    visits.visit_record(
        patient=patient,
        by=by,
        visit_date=day,
        kind="screening",
        ecog=base.ecog,
        systolic_bp_mmhg=base.systolic,
        diastolic_bp_mmhg=rng.randint(68, 86),
        heart_rate_bpm=rng.randint(62, 88),
        temperature_c=_d(rng.uniform(36.2, 37.1)),
        weight_kg=screening.weight_kg,
        respiratory_rate_per_min=rng.randint(12, 18),
        spo2_percent=rng.randint(96, 99),
        ascites=screening.ascites,
        values=values,
    )
    return base


def week_visit(rng, *, patient, by, day, week, base: Baseline, responder: bool, special: str):
    """A study-week visit: regorafenib's slow rise of the transaminases and blood pressure, a
    little fall of the counts, the AFP falling in a responder; `special` the rank's show case."""
    rise = 1 + min(week, 12) * rng.uniform(0.01, 0.06)
    alt = base.alt * rise
    ast = base.ast * rise * rng.uniform(0.95, 1.1)
    platelets = base.platelets * rng.uniform(0.78, 1.02)
    if special == "hepatotoxicity":
        alt, ast = 245.0, 112.0  # 6.1 x ULN: grade 3; AST 2.8 x ULN: grade 1
    elif special in ("artefact", "thrombocytopenia"):
        platelets = rng.uniform(38, 48)
    if responder:
        afp = base.afp * max(0.12, 1 - 0.22 * week)
    else:
        afp = base.afp * (1 + 0.04 * week) * rng.uniform(0.9, 1.15)
    values = [
        {"test": "haemoglobin", "value": _d(base.haemoglobin * rng.uniform(0.9, 1.02), 0)},
        {"test": "platelets", "value": _d(platelets, 0)},
        {"test": "neutrophils", "value": _d(base.neutrophils * rng.uniform(0.78, 1.1), 2)},
        {"test": "alt", "value": _d(alt, 0)},
        {"test": "ast", "value": _d(ast, 0)},
        {"test": "bilirubin", "value": _d(18.5 * rng.uniform(0.85, 1.25))},
        {"test": "albumin", "value": _d(rng.uniform(35, 40))},
        {"test": "afp", "value": _d(afp, 1)},
    ]
    if week in (4, 12, 24, 48):
        values += [
            {"test": "creatinine", "value": _d(rng.uniform(60, 95), 0)},
            {"test": "inr", "value": _d(rng.uniform(1.0, 1.18), 2)},
        ]
    visits.visit_record(
        patient=patient,
        by=by,
        visit_date=day,
        kind="week",
        number=week,
        ecog=min(2, base.ecog + (1 if rng.random() < 0.1 else 0)),
        systolic_bp_mmhg=base.systolic + rng.randint(0, 22),
        diastolic_bp_mmhg=rng.randint(70, 92),
        heart_rate_bpm=rng.randint(62, 92),
        temperature_c=_d(rng.uniform(36.2, 37.2)),
        respiratory_rate_per_min=rng.randint(12, 18),
        spo2_percent=rng.randint(95, 99),
        values=values,
    )


def clinic(generator, *, patient, rank, arm, randomized_on, end_day, death, responder) -> Course:
    """One synthetic patient's history, medications and visits (the generator's clock and
    users); the proposals are decided at the end (decide_proposals)."""
    rng = random.Random(f"{generator.seed}/clinic/{rank}")
    by = generator.u["coordinator"]
    record = Course(patient, rank, arm, randomized_on, end_day, death)
    with generator.at(randomized_on - timedelta(days=3), 13):
        record.hbv_antiviral = history(rng, screening=patient.screening, by=by, rank=rank)
        base = baseline_visit(rng, patient=patient, by=by, day=patient.screening.screening_date)
    special = {HEPATOTOXICITY: "hepatotoxicity", THROMBOCYTOPENIA: "thrombocytopenia"}.get(
        rank % 10, "artefact" if rank == PLATELET_ARTEFACT else ""
    )
    days = [(week, randomized_on + timedelta(days=7 * week + rng.randint(-2, 2))) for week in WEEKS]
    days = [(w, d) for w, d in days if d < end_day and d < death and d < generator.today]
    shown_at = {"hepatotoxicity": 1, "artefact": 0, "thrombocytopenia": 2}.get(special)
    if shown_at is not None and days:
        shown_at = min(shown_at, len(days) - 1)
    for i, (week, day) in enumerate(days):
        with generator.at(day, 15):
            week_visit(
                rng,
                patient=patient,
                by=by,
                day=day,
                week=week,
                base=base,
                responder=responder,
                special=special if i == shown_at else "",
            )
        record.visit_days.append(day)
    return record


def decide_proposals(generator) -> None:
    """The coordinator decides each proposed adverse event the day after its visit: a clumped
    platelet sample dismissed with the laboratory's reason, the others accepted; the latest one
    left pending, on the coordinator's list."""
    by = generator.u["coordinator"]
    proposals = list(
        ProposedAdverseEvent.objects.filter(state=ProposedAdverseEvent.PROPOSED)
        .select_related("lab__visit__patient")
        .order_by("lab__visit__visit_date", "pk")
    )
    ranks = {c.patient.pk: c.rank for c in generator.courses}
    for proposal in proposals[:-1]:
        day = proposal.lab.visit.visit_date + timedelta(days=1)
        with generator.at(day, 9):
            rank = ranks.get(proposal.patient_id, -1)
            if proposal.lab.test == "platelets" and rank == PLATELET_ARTEFACT:
                visits.proposal_dismiss(proposal=proposal, by=by, reason=ARTEFACT_REASON)
            else:
                visits.proposal_accept(proposal=proposal, by=by)


# The show cases -------------------------------------------------------------------------------


def showcase(generator) -> dict[str, int]:
    """Once every patient is made: the proposals decided, a strong CYP3A4 inhibitor taken for a
    week, an HBV antiviral stopped, a grade 2 CRS and a grade 1 ICANS after iNKT courses, a
    SUSAR reported on time and one whose expedited report is overdue."""
    decide_proposals(generator)
    done = {"clarithromycin": 0, "antiviral_stopped": 0, "crs": 0, "icans": 0, "susars": 0}
    courses = sorted(generator.courses, key=lambda c: c.rank)
    today = generator.today
    by, investigator = generator.u["coordinator"], generator.u["investigator"]
    used = set()

    def first(test):
        for c in courses:
            if c.patient.pk not in used and test(c):
                used.add(c.patient.pk)
                return c
        return None

    c = first(
        lambda c: (
            c.randomized_on + timedelta(days=38) < min(c.end_day, c.death, today)
            and c.rank % 10 != HEPATOTOXICITY
        )
    )
    if c:  # a week of clarithromycin while on regorafenib: the warning
        start = c.randomized_on + timedelta(days=30)
        with generator.at(start + timedelta(days=7), 11):
            medications.medication_record(
                screening=c.patient.screening,
                by=by,
                name="Clarithromycin",
                indication="Community-acquired pneumonia (prescribed by the family doctor)",
                dose=D(500),
                dose_unit="mg",
                route="oral",
                frequency="twice daily",
                start_date=start,
                stop_date=start + timedelta(days=6),
                ongoing=False,
                atc_code="J01FA09",
            )
        done["clarithromycin"] += 1
    c = first(
        lambda c: (
            c.hbv_antiviral is not None
            and c.randomized_on + timedelta(days=45) < min(c.end_day, c.death, today)
        )
    )
    if c:
        stopped = c.randomized_on + timedelta(days=42)
        with generator.at(stopped + timedelta(days=3), 11):
            medications.medication_stop(
                medication=c.hbv_antiviral,
                by=by,
                stop_date=stopped,
                reason="The patient stopped it himself (ran out of tablets); told at the visit",
            )
        done["antiviral_stopped"] += 1
    infused = [
        (c, i)
        for c in courses
        if c.arm == "RPI"
        for i in Infusion.objects.filter(patient=c.patient).order_by("course_number")
    ]
    crs_term = CtcaeTerm.objects.get(term=crs.CRS_TERM)
    icans_term = CtcaeTerm.objects.get(term=crs.ICANS_TERM)
    for c, infusion in infused:
        onset = timezone.localdate(infusion.infused_at) + timedelta(days=1)
        if c.patient.pk in used or onset + timedelta(days=4) >= min(c.death, today):
            continue
        if not done["crs"] and infusion.course_number == 2:
            with generator.at(onset + timedelta(days=4), 10):
                safety.ae_record(
                    patient=c.patient,
                    by=investigator,
                    term=crs_term,
                    onset=onset,
                    resolution=onset + timedelta(days=3),
                    outcome="recovered",
                    infusion=infusion,
                    astct_inputs={
                        "max_temperature_c": 38.9,
                        "hypotension": "no_vasopressor",
                        "oxygen": "none",
                    },  # grade 2 by ASTCT: fever with hypotension not needing a vasopressor
                )
            done["crs"] += 1
            used.add(c.patient.pk)
        elif not done["icans"] and infusion.course_number == 1:
            with generator.at(onset + timedelta(days=4), 10):
                safety.ae_record(
                    patient=c.patient,
                    by=investigator,
                    term=icans_term,
                    specification=crs.ICANS_SPECIFICATION,
                    onset=onset + timedelta(days=1),
                    resolution=onset + timedelta(days=2),
                    outcome="recovered",
                    infusion=infusion,
                    astct_inputs={
                        "ice_orientation": 3,  # not the month
                        "ice_naming": 3,
                        "ice_commands": 1,
                        "ice_writing": 0,  # could not write a sentence
                        "ice_attention": 1,
                        "consciousness": "normal",
                    },  # ICE 8: grade 1 by ASTCT
                )
            done["icans"] += 1
            used.add(c.patient.pk)
    hemolysis = CtcaeTerm.objects.get(term="Hemolysis")
    thrombosis = CtcaeTerm.objects.get(term="Thromboembolic event")
    # A SUSAR reported on time (day 6 of 15), with its narrative.
    c = first(
        lambda c: (
            c.randomized_on + timedelta(days=80) < min(c.end_day, c.death, today - timedelta(30))
        )
    )
    if c:
        onset = c.randomized_on + timedelta(days=63)
        susar(
            generator,
            patient=c.patient,
            term=hemolysis,
            onset=onset,
            suspected="pd1",
            reported_after_days=6,
            narrative=(
                "A patient with BCLC C hepatocellular carcinoma on the PD-1 antibody and "
                "regorafenib presented on day 63 with fatigue and jaundice; haemoglobin fell "
                "from 131 to 74 g/L, LDH and indirect bilirubin were raised, haptoglobin was "
                "undetectable and the direct antiglobulin test was positive (IgG). Admitted, "
                "transfused 2 units and treated with prednisolone 1 mg/kg; haemoglobin 102 g/L "
                "at discharge on day 71. Immune haemolytic anaemia is not in the PD-1 "
                "antibody's reference safety information: unexpected, probably related."
            ),
        )
        done["susars"] += 1
    # A SUSAR whose expedited report is overdue (aware 20 days ago, due on day 15).
    c = first(
        lambda c: (
            c.randomized_on < today - timedelta(days=40)
            and _alive_through(c.patient, today - timedelta(days=21))
        )
    )
    if c:
        susar(
            generator,
            patient=c.patient,
            term=thrombosis,
            onset=today - timedelta(days=21),
            suspected="regorafenib",
            reported_after_days=None,
            narrative=(
                "Left leg swelling on day 0; duplex ultrasound: deep vein thrombosis of the left "
                "femoral vein; admitted for anticoagulation. Venous thromboembolism is not in "
                "regorafenib's reference safety information: unexpected, possibly related."
            ),
        )
        done["susars"] += 1
    return done


def susar(generator, *, patient, term, onset, suspected, reported_after_days, narrative):
    """A serious event (hospitalisation), reported within 24 hours, assessed by the
    investigator two days later as related to `suspected` and unexpected; the expedited report
    sent `reported_after_days` after awareness (None: not yet)."""
    by, investigator = generator.u["coordinator"], generator.u["investigator"]
    aware = onset + timedelta(days=1)
    with generator.at(aware, 18):
        now = timezone.now()
        event = safety.ae_record(
            patient=patient,
            by=by,
            term=term,
            grade=3,
            onset=onset,
            serious_criteria=["hospitalization"],
            awareness_at=now - timedelta(hours=4),
            initial_report_at=now,
            narrative=narrative,
            outcome="recovering",
        )
    with generator.at(aware + timedelta(days=2), 11):
        relationships = {}
        for drug in ("inkt", "pd1", "regorafenib"):
            if getattr(event, f"relationship_{drug}") == "not_applicable":
                continue
            if drug == suspected:
                relationships[f"relationship_{drug}"] = "probable" if drug == "pd1" else "possible"
                relationships[f"expectedness_{drug}"] = "unexpected"
            else:
                relationships[f"relationship_{drug}"] = "unlikely"
        event = safety.ae_assess_causality(event=event, by=investigator, **relationships)
    if reported_after_days is not None:
        with generator.at(aware + timedelta(days=reported_after_days), 14):
            safety.ae_correct(
                event=event,
                by=by,
                reason="Expedited SUSAR report sent to the ethics committee and the authority",
                susar_report_at=timezone.now(),
            )
