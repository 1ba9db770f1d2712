"""Tumour response by mRECIST and iRECIST, computed from a reader's measurements.

Pure module (no Django). Sources:
- RECIST 1.1: Eisenhauer EA et al. New response evaluation criteria in solid tumours: revised
  RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-47 (response table, nadir, 20 % and
  5 mm, lymph nodes < 10 mm for CR, new lesions, dating of equivocal new lesions).
- mRECIST: Lencioni R, Llovet JM. Modified RECIST (mRECIST) assessment for hepatocellular
  carcinoma. Semin Liver Dis 2010;30:52-60 (viable, arterially enhancing diameter of typical
  lesions; porta-hepatis node >= 20 mm; portal-vein thrombus non-measurable; new liver nodule
  >= 10 mm with the typical pattern or >= 10 mm interval growth; effusion needs cytology).
- iRECIST: Seymour L et al. iRECIST: guidelines for response criteria for use in trials testing
  immunotherapeutics. Lancet Oncol 2017;18:e143-52, Tables 2 and 3 (iUPD, confirmation as iCPD
  4-8 weeks later, reset to iCR/iPR/iSD, new-target and new-non-target lesions).
The spec of this product: shared/specs/tumour-response.md (its five examples are unit tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Criterion(StrEnum):
    MRECIST = "mrecist"
    IRECIST = "irecist"


class NonTargetStatus(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    PROGRESSION = "unequivocal_progression"
    FURTHER_INCREASE = "further_increase"  # after iUPD (iRECIST)
    NOT_ASSESSED = "not_assessed"


class NewLesionKind(StrEnum):
    NODULE = "nodule"
    LYMPH_NODE = "lymph_node"
    EFFUSION = "effusion"
    OTHER = "other"


MAX_TARGETS = 5
MAX_TARGETS_PER_ORGAN = 2
MIN_LESION_MM = 10
MIN_NODE_SHORT_AXIS_MM = 15
MIN_PORTA_HEPATIS_NODE_MM = 20  # mRECIST
NODE_NORMAL_MM = 10  # a target node < 10 mm short axis counts as normal (CR)
THROMBUS = "portal_vein_thrombus"


@dataclass(frozen=True)
class TargetLesion:
    """A baseline target: diameters in mm (short axis for nodes); `viable_mm` for typical HCC."""

    id: str
    organ: str
    diameter_mm: float
    nodal: bool = False
    typical_hcc: bool = False
    viable_mm: float | None = None
    porta_hepatis: bool = False


@dataclass(frozen=True)
class NonTargetLesion:
    id: str
    organ: str
    nodal: bool = False


@dataclass(frozen=True)
class Baseline:
    date: date
    targets: tuple[TargetLesion, ...]
    non_targets: tuple[NonTargetLesion, ...] = ()


@dataclass(frozen=True)
class Measurement:
    """A baseline target re-measured; None = not assessable."""

    lesion_id: str
    diameter_mm: float | None
    viable_mm: float | None = None


@dataclass(frozen=True)
class NewLesion:
    """A lesion absent at baseline, with an id kept across timepoints. `target`: an iRECIST
    new-target lesion (measured); otherwise new-non-target. `increased`: a new non-target
    lesion that grew (iRECIST). `absent`: seen before, gone now."""

    id: str
    organ: str
    kind: NewLesionKind = NewLesionKind.NODULE
    diameter_mm: float | None = None
    typical_hcc: bool = False
    equivocal: bool = False
    cytology_positive: bool = False
    target: bool = False
    increased: bool = False
    absent: bool = False


@dataclass(frozen=True)
class FollowUp:
    date: date
    measurements: tuple[Measurement, ...]
    non_targets: dict[str, NonTargetStatus] = field(default_factory=dict)
    new_lesions: tuple[NewLesion, ...] = ()
    for_new_symptoms: bool = False  # iRECIST: an early scan done because of new symptoms


class ReadError(ValueError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def check_baseline(baseline: Baseline) -> list[str]:
    """Why a baseline breaks the rules (empty when it does not)."""
    problems = []
    if len(baseline.targets) > MAX_TARGETS:
        problems.append(f"At most {MAX_TARGETS} target lesions ({len(baseline.targets)} given).")
    ids = [lesion.id for lesion in [*baseline.targets, *baseline.non_targets]]
    if len(ids) != len(set(ids)):
        problems.append("Every lesion needs its own id.")
    per_organ: dict[str, int] = {}
    for lesion in baseline.targets:
        per_organ[lesion.organ] = per_organ.get(lesion.organ, 0) + 1
        if lesion.organ == THROMBUS:
            problems.append(
                f"Lesion {lesion.id}: a portal-vein thrombus is non-measurable, never a target."
            )
        elif lesion.nodal:
            minimum = MIN_PORTA_HEPATIS_NODE_MM if lesion.porta_hepatis else MIN_NODE_SHORT_AXIS_MM
            if lesion.diameter_mm < minimum:
                problems.append(
                    f"Lesion {lesion.id}: a target lymph node needs a short axis of at least "
                    f"{minimum} mm ({lesion.diameter_mm:g} mm)."
                )
        elif lesion.diameter_mm < MIN_LESION_MM:
            problems.append(
                f"Lesion {lesion.id}: a target needs at least {MIN_LESION_MM} mm "
                f"({lesion.diameter_mm:g} mm)."
            )
        if lesion.typical_hcc and lesion.viable_mm is None:
            problems.append(f"Lesion {lesion.id}: give the viable diameter of a typical HCC.")
        if lesion.viable_mm is not None and lesion.viable_mm > lesion.diameter_mm:
            problems.append(f"Lesion {lesion.id}: the viable diameter exceeds the lesion's.")
    for organ, count in per_organ.items():
        if count > MAX_TARGETS_PER_ORGAN:
            problems.append(
                f"At most {MAX_TARGETS_PER_ORGAN} target lesions per organ ({count} in {organ})."
            )
    return problems


def check_follow_up(baseline: Baseline, follow_up: FollowUp, previous: date | None) -> list[str]:
    problems = []
    if follow_up.date <= baseline.date:
        problems.append("A follow-up cannot be dated on or before the baseline scan.")
    if previous is not None and follow_up.date <= previous:
        problems.append("Follow-ups must be in date order.")
    ids = {m.lesion_id for m in follow_up.measurements}
    missing = [t.id for t in baseline.targets if t.id not in ids]
    if missing:
        problems.append(f"Re-measure every baseline target or mark it not assessable: {missing}.")
    unknown = sorted(ids - {t.id for t in baseline.targets})
    if unknown:
        problems.append(f"Unknown target lesion(s): {unknown}.")
    strangers = sorted(set(follow_up.non_targets) - {n.id for n in baseline.non_targets})
    if strangers:
        problems.append(f"Unknown non-target lesion(s): {strangers}.")
    targets = {t.id: t for t in baseline.targets}
    for m in follow_up.measurements:
        for value in (m.diameter_mm, m.viable_mm):
            if value is not None and value < 0:
                problems.append(f"Lesion {m.lesion_id}: a diameter cannot be negative.")
        lesion = targets.get(m.lesion_id)
        if lesion and lesion.typical_hcc and m.diameter_mm is not None and m.viable_mm is None:
            problems.append(f"Lesion {m.lesion_id}: give the viable diameter (0 if none).")
    new_targets = [n for n in follow_up.new_lesions if n.target and not n.absent]
    if len(new_targets) > MAX_TARGETS:
        problems.append(f"At most {MAX_TARGETS} new target lesions.")
    organs: dict[str, int] = {}
    for lesion in new_targets:
        organs[lesion.organ] = organs.get(lesion.organ, 0) + 1
    if any(count > MAX_TARGETS_PER_ORGAN for count in organs.values()):
        problems.append(f"At most {MAX_TARGETS_PER_ORGAN} new target lesions per organ.")
    return problems


# --- one timepoint ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    criterion: Criterion
    pd_5mm_floor: bool = True  # RECIST 1.1's absolute increase; optional for mRECIST
    min_sd_days: int = 42  # SD counts for best response only this long after enrolment
    confirm_response_days: int | None = None  # None: no confirmation of CR/PR (randomized)


@dataclass(frozen=True)
class TimepointResult:
    date: date
    target_sum: float | None  # None when a target was not assessable
    nadir_before: float  # smallest complete sum before this timepoint (baseline included)
    change_from_baseline_pct: float | None
    change_from_nadir_pct: float | None
    target: str  # CR, PR, SD, PD, NE or "" (no targets)
    non_target: str  # CR, NN (non-CR/non-PD), PD, NE or "" (none)
    new_lesion: bool  # a new lesion that counts as progression was seen here
    overall: str  # CR, PR, SD, NN, PD, NE; iRECIST: iCR, iPR, iSD, iNN, iUPD, iCPD, NE


@dataclass(frozen=True)
class SeriesResult:
    criterion: Criterion
    baseline_sum: float
    timepoints: tuple[TimepointResult, ...]
    best_overall_response: str
    first_response_date: date | None
    progression_date: date | None  # mRECIST: first PD; iRECIST: U of the confirmed iUPD
    icpd_scan_date: date | None = None
    unconfirmed_iupd_date: date | None = None


def _lesion_value(
    lesion: TargetLesion, diameter: float | None, viable: float | None, criterion: Criterion
) -> float | None:
    if diameter is None:
        return None
    if criterion is Criterion.MRECIST and lesion.typical_hcc:
        return viable if viable is not None else None
    return diameter


def _sum(values) -> float:
    return round(sum(values), 6)


def _pd(total: float, nadir: float, options: Options) -> bool:
    if total <= nadir or total < 1.2 * nadir - 1e-9:
        return False
    floor = options.pd_5mm_floor or options.criterion is Criterion.IRECIST  # iRECIST keeps it
    return not floor or total - nadir >= 5 - 1e-9


def _pct(value: float | None, reference: float) -> float | None:
    if value is None or reference == 0:
        return None
    return round(100 * (value - reference) / reference, 1)


def _counts_as_new(
    lesion: NewLesion, history: dict[str, list[NewLesion]], criterion: Criterion
) -> bool:
    """Whether a new lesion, as seen now, is unequivocal progression (ignoring equivocal)."""
    if lesion.absent or lesion.equivocal:
        return False
    if lesion.kind is NewLesionKind.EFFUSION:
        return lesion.cytology_positive
    if (
        criterion is Criterion.MRECIST
        and lesion.kind is NewLesionKind.NODULE
        and lesion.organ == "liver"
    ):
        size = lesion.diameter_mm or 0
        if lesion.typical_hcc:
            return size >= 10
        earlier = [e.diameter_mm for e in history.get(lesion.id, []) if e.diameter_mm is not None]
        return bool(earlier) and size - min(earlier) >= 10
    if lesion.kind is NewLesionKind.LYMPH_NODE:
        return (lesion.diameter_mm or 0) >= NODE_NORMAL_MM
    return True


class _Reader:
    """Walks a series for one criterion, keeping the nadir and what was seen."""

    def __init__(self, baseline: Baseline, options: Options):
        self.baseline, self.options, self.criterion = baseline, options, options.criterion
        self.targets = {t.id: t for t in baseline.targets}
        values = [
            _lesion_value(t, t.diameter_mm, t.viable_mm, self.criterion) for t in baseline.targets
        ]
        self.baseline_sum = _sum(v or 0 for v in values)
        self.nadir = self.baseline_sum
        self.best_target = None  # "PR" once reached, kept until PD
        self.history: dict[str, list[NewLesion]] = {}
        self.first_seen: dict[str, date] = {}
        self.in_cr = False  # an overall CR not yet followed by anything but CR or NE
        self.known_new: set[str] = set()  # new lesions already judged before an iRECIST reset

    def components(self, fu: FollowUp) -> tuple[TimepointResult, date | None]:
        """RECIST-style components of one timepoint; the date progression is dated at."""
        by_id = {m.lesion_id: m for m in fu.measurements}
        values, assessed_all = [], True
        cr_possible = True
        for lesion in self.baseline.targets:
            m = by_id.get(lesion.id)
            value = _lesion_value(
                lesion, m.diameter_mm if m else None, m.viable_mm if m else None, self.criterion
            )
            if value is None:
                assessed_all = False
                continue
            values.append(value)
            if (lesion.nodal and value >= NODE_NORMAL_MM) or (not lesion.nodal and value > 0):
                cr_possible = False
        partial = _sum(values)
        total = partial if assessed_all else None
        nadir = self.nadir

        target = ""
        if self.baseline.targets:
            if total is None:
                target = "PD" if values and _pd(partial, nadir, self.options) else "NE"
            elif self.in_cr and not cr_possible:
                target = "PD"  # a lesion reappearing after a complete response
            elif cr_possible:
                target = "CR"
            elif _pd(total, nadir, self.options):
                target = "PD"
            elif total <= 0.7 * self.baseline_sum + 1e-9 or self.best_target == "PR":
                target = "PR"
            else:
                target = "SD"

        statuses = [
            fu.non_targets.get(n.id, NonTargetStatus.NOT_ASSESSED)
            for n in self.baseline.non_targets
        ]
        # A non-nodal non-target seen again after a complete response is progression.
        reappeared = self.in_cr and any(
            fu.non_targets.get(n.id) is NonTargetStatus.PRESENT and not n.nodal
            for n in self.baseline.non_targets
        )
        non_target = ""
        if statuses:
            if reappeared or any(
                s in (NonTargetStatus.PROGRESSION, NonTargetStatus.FURTHER_INCREASE)
                for s in statuses
            ):
                non_target = "PD"
            elif NonTargetStatus.NOT_ASSESSED in statuses:
                non_target = "NE"
            elif all(s is NonTargetStatus.ABSENT for s in statuses):
                non_target = "CR"
            else:
                non_target = "NN"

        new_pd, dated = False, fu.date
        for lesion in fu.new_lesions:
            self.first_seen.setdefault(lesion.id, fu.date)
            if _counts_as_new(lesion, self.history, self.criterion):
                new_pd = True
                # An equivocal lesion later confirmed dates progression at its first scan.
                if any(e.equivocal for e in self.history.get(lesion.id, [])):
                    dated = min(dated, self.first_seen[lesion.id])
        for lesion in fu.new_lesions:
            self.history.setdefault(lesion.id, []).append(lesion)

        overall = "PD" if new_pd else _overall(target, non_target)

        result = TimepointResult(
            date=fu.date,
            target_sum=total,
            nadir_before=nadir,
            change_from_baseline_pct=_pct(total, self.baseline_sum),
            change_from_nadir_pct=_pct(total, nadir),
            target=target,
            non_target=non_target,
            new_lesion=new_pd,
            overall=overall,
        )
        if target in ("CR", "PR"):
            self.best_target = "PR"
        if target == "PD":
            self.best_target = None
        if total is not None:
            self.nadir = min(self.nadir, total)
        if overall == "CR":
            self.in_cr = True
        elif overall != "NE":
            self.in_cr = False
        return result, dated if overall == "PD" else None


def _overall(target: str, non_target: str) -> str:
    """The RECIST 1.1 overall response table, new lesions aside (they make it PD)."""
    if "PD" in (target, non_target):
        return "PD"
    if target == "":  # no target lesions: from the non-targets alone
        return {"CR": "CR", "NE": "NE"}.get(non_target, "NN")
    if target == "NE":
        return "NE"
    if target == "CR":
        return "CR" if non_target in ("CR", "") else "PR"
    return target


I_PREFIXED = {"CR": "iCR", "PR": "iPR", "SD": "iSD", "NN": "iNN", "NE": "NE"}


def _best(
    results: list[tuple[date, str]],
    enrolled: date,
    options: Options,
    order: list[str],
    progressed: bool,
    fallback: list[str],
) -> tuple[str, date | None]:
    """Best overall response before progression, with the SD duration and the optional
    confirmation of CR/PR (RECIST 1.1, Table 3: a CR confirmed by a CR, a PR by a CR or PR,
    at least `confirm_response_days` later; an unconfirmed one counts as SD when that is long
    enough after enrolment); the date of the first CR/PR."""
    stable = {"SD", "NN", "iSD", "iNN"}
    qualifying: list[str] = []
    first_response = None
    for i, (day, response) in enumerate(results):
        kind = response.removeprefix("i")
        if kind in ("CR", "PR"):
            if options.confirm_response_days is not None:
                later = [
                    r.removeprefix("i")
                    for d, r in results[i + 1 :]
                    if (d - day).days >= options.confirm_response_days
                ]
                accepted = {"CR": {"CR"}, "PR": {"CR", "PR"}}[kind]
                if not later or later[0] not in accepted:
                    if (day - enrolled).days >= options.min_sd_days:
                        qualifying.append("iSD" if response.startswith("i") else "SD")
                    continue
            qualifying.append(response)
            first_response = first_response or day
        elif response in stable and (day - enrolled).days >= options.min_sd_days:
            qualifying.append(response)
    ranked = [r for r in order if r in qualifying]
    if ranked:
        return ranked[0], first_response
    return (fallback[0] if progressed else fallback[1]), None


def evaluate(
    baseline: Baseline, follow_ups: list[FollowUp], *, options: Options, enrolled: date
) -> SeriesResult:
    """Every timepoint's response, best overall response, date of first response and
    progression date, for one criterion."""
    problems = check_baseline(baseline)
    previous = None
    for fu in follow_ups:
        problems += check_follow_up(baseline, fu, previous)
        previous = fu.date
    if problems:
        raise ReadError(problems)
    if options.criterion is Criterion.MRECIST:
        return _evaluate_mrecist(baseline, follow_ups, options, enrolled)
    return _evaluate_irecist(baseline, follow_ups, options, enrolled)


def _evaluate_mrecist(baseline, follow_ups, options, enrolled) -> SeriesResult:
    reader = _Reader(baseline, options)
    timepoints, progression = [], None
    for fu in follow_ups:
        result, dated = reader.components(fu)
        if progression is not None:  # after progression every timepoint stays PD
            result = TimepointResult(**{**result.__dict__, "overall": "PD"})
        elif result.overall == "PD":
            progression = dated
        timepoints.append(result)
    pairs = []
    for t in timepoints:
        pairs.append((t.date, t.overall))
        if t.overall == "PD":
            break
    best, first = _best(
        pairs,
        enrolled,
        options,
        ["CR", "PR", "SD", "NN"],
        progressed=progression is not None,
        fallback=["PD", "NE"],
    )
    return SeriesResult(
        Criterion.MRECIST, reader.baseline_sum, tuple(timepoints), best, first, progression
    )


def _evaluate_irecist(baseline, follow_ups, options, enrolled) -> SeriesResult:
    reader = _Reader(baseline, options)
    timepoints: list[TimepointResult] = []
    u = None  # the open iUPD: {"date", "dated", "sum", "new_sum", "categories", "new_ids"}
    progression = icpd_date = None
    confirmed = False
    for fu in follow_ups:
        base, dated = reader.components(fu)
        # Only lesions that are unequivocal progression count (not equivocal ones, effusions
        # without cytology, small nodes).
        new_ids = {n.id for n in fu.new_lesions if _counts_as_new(n, {}, Criterion.IRECIST)}
        new_target_sum = _sum(
            n.diameter_mm or 0 for n in fu.new_lesions if n.target and not n.absent
        )
        categories = {
            c
            for c, hit in (
                ("target", base.target == "PD"),
                ("non_target", base.non_target == "PD"),
                ("new", base.new_lesion),
            )
            if hit
        }
        if confirmed:
            overall = "iCPD"
        elif u is not None:
            early = (fu.date - u["date"]).days < 28
            further_new = bool(new_ids - u["new_ids"])
            if early and not (fu.for_new_symptoms and further_new):
                overall = "iUPD"  # too early to confirm: disregarded
            elif _confirms(fu, base, u, new_ids, new_target_sum, categories):
                overall, confirmed = "iCPD", True
                progression, icpd_date = u["dated"], fu.date
            elif base.target == "NE" or (
                "non_target" in u["categories"] and base.non_target == "NE"
            ):
                overall = "NE"  # cannot judge: the iUPD stays open (Seymour 2017, Table 3)
            elif not _still_progressing(fu, base, u):
                u = None  # reset: the next iUPD is judged afresh from the nadir
                reader.known_new |= new_ids
                overall = _i_response(base, fu)
            else:
                overall = "iUPD"
        elif categories - {"new"} or _fresh_new(fu, reader):
            u = {
                "date": fu.date,
                "dated": dated or fu.date,
                "sum": base.target_sum,
                "new_sum": new_target_sum,
                "categories": categories,
                "new_ids": new_ids,
                "new_sizes": {n.id: n.diameter_mm for n in fu.new_lesions},
            }
            overall = "iUPD"
        else:  # only new lesions judged before a reset: not a fresh progression
            overall = _i_response(base, fu)
        timepoints.append(TimepointResult(**{**base.__dict__, "overall": overall}))
    unconfirmed = u["dated"] if (u is not None and not confirmed) else None
    pairs = []
    for t in timepoints:
        pairs.append((t.date, t.overall))
        if t.overall == "iCPD":
            break
    best, first = _best(
        pairs,
        enrolled,
        options,
        ["iCR", "iPR", "iSD", "iNN"],
        progressed=confirmed,
        fallback=["iCPD", "iUPD" if unconfirmed else "NE"],
    )
    if not confirmed and best == "NE" and any(t.overall == "iUPD" for t in timepoints):
        best = "iUPD"
    return SeriesResult(
        Criterion.IRECIST,
        reader.baseline_sum,
        tuple(timepoints),
        best,
        first,
        progression,
        icpd_date,
        unconfirmed,
    )


def _i_response(base: TimepointResult, fu: FollowUp) -> str:
    """iCR, iPR, iSD, iNN or NE outside an iUPD; no iCR while a new lesion is still there."""
    response = I_PREFIXED[_overall(base.target, base.non_target)]
    if response == "iCR" and any(not n.absent for n in fu.new_lesions):
        return "iPR"
    return response


def _fresh_new(fu: FollowUp, reader: _Reader) -> bool:
    """A new lesion that opens iUPD: not one already known when iUPD was last reset, unless it
    is now progressing on its own."""
    known = reader.known_new
    for lesion in fu.new_lesions:
        if lesion.absent:
            continue
        if lesion.id not in known and _counts_as_new(lesion, {}, Criterion.IRECIST):
            return True
        if lesion.id in known and lesion.increased:
            return True
    return False


def _confirms(fu, base, u, new_ids, new_target_sum, categories) -> bool:
    """iCPD (Seymour 2017, Table 2): measured from U, increases add up."""
    if (
        u["sum"] is not None
        and base.target_sum is not None
        and base.target_sum - u["sum"] >= 5 - 1e-9
    ):
        return True
    if any(s is NonTargetStatus.FURTHER_INCREASE for s in fu.non_targets.values()):
        return True
    if new_target_sum - u["new_sum"] >= 5 - 1e-9:
        return True
    if any(n.increased and not n.target and not n.absent for n in fu.new_lesions):
        return True
    if new_ids - u["new_ids"]:
        return True  # any further new lesion
    return bool(categories - u["categories"])  # PD in a category not progressing at U


def _still_progressing(fu, base, u) -> bool:
    """Whether any iUPD trigger still holds (otherwise the response resets)."""
    if base.target == "PD" or base.non_target == "PD":
        return True
    for lesion in fu.new_lesions:
        if lesion.id in u["new_ids"] and not lesion.absent:
            before = u["new_sizes"].get(lesion.id)
            if before is None or lesion.diameter_mm is None or lesion.diameter_mm >= before:
                return True
    return False
