"""Tumour response by mRECIST and iRECIST, computed from a reader's measurements.

Pure module (no Django). Sources:
- RECIST 1.1: Eisenhauer EA et al. New response evaluation criteria in solid tumours: revised
  RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-47 (response table, nadir, 20 % and
  5 mm, lymph nodes < 10 mm for CR, new lesions, dating of equivocal new lesions, Table 3 for
  the confirmation of CR/PR).
- mRECIST: Lencioni R, Llovet JM. Modified RECIST (mRECIST) assessment for hepatocellular
  carcinoma. Semin Liver Dis 2010;30:52-60 (viable, arterially enhancing diameter of typical
  lesions, measurable from 10 mm; a porta-hepatis node malignant only from 20 mm short axis;
  portal-vein thrombus non-measurable; new liver nodule >= 10 mm with the typical pattern or
  >= 10 mm interval growth; effusion needs cytology).
- iRECIST: Seymour L et al. iRECIST: guidelines for response criteria for use in trials testing
  immunotherapeutics. Lancet Oncol 2017;18:e143-52, Tables 2 and 3, and the working group's
  iRECIST FAQ (iUPD, confirmation as iCPD 4-8 weeks later, reset to iCR/iPR/iSD, new-target
  and new-non-target lesions).
The spec of this product: shared/specs/tumour-response.md (its five examples are unit tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
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
MIN_PORTA_HEPATIS_NODE_MM = 20  # mRECIST: a porta-hepatis node is malignant only from 2 cm
MIN_VIABLE_MM = 10  # mRECIST: a typical HCC is measured by its viable diameter, from 10 mm
NODE_NORMAL_MM = 10  # a node < 10 mm short axis is normal: CR for a target, no new lesion
NEW_LIVER_NODULE_MM = 10  # mRECIST: a typical new nodule counts from 10 mm ...
NEW_NODULE_GROWTH_MM = 10  # ... an atypical one after 10 mm of interval growth
THROMBUS = "portal_vein_thrombus"

PD_RELATIVE = 1.2  # RECIST 1.1: sum at least 20 % over the nadir ...
PD_ABSOLUTE_MM = 5  # ... and at least 5 mm over it
PR_RELATIVE = 0.7  # RECIST 1.1: sum at least 30 % under the baseline sum
ICPD_INCREASE_MM = 5  # iRECIST: a (new-)target sum 5 mm over that at U confirms iCPD
# iRECIST confirms iUPD at the next assessment, 4 to 8 weeks on (Seymour 2017): at least 28 days
# after U, and at most 8 weeks after the block's previous assessment with the protocol's
# +/- 7-day window at both ends (two 8-weekly scans in their windows are up to 56 + 14 apart).
ICPD_CONFIRM_MIN_DAYS = 28
ICPD_CONFIRM_MAX_DAYS = 56
SCHEDULE_TOLERANCE_DAYS = 7
ICPD_CONFIRM_LAST_DAY = ICPD_CONFIRM_MAX_DAYS + 2 * SCHEDULE_TOLERANCE_DAYS
EPSILON = 1e-9  # sums of decimals: 5 mm over stays 5 mm over


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
    lesion that grew (iRECIST). `absent`: seen before, gone now. `porta_hepatis`: a lymph node
    at the porta hepatis (mRECIST counts it only from 20 mm short axis)."""

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
    porta_hepatis: bool = False


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


def check_baseline(baseline: Baseline, criterion: Criterion) -> list[str]:
    """Why a baseline breaks the rules of `criterion` (empty when it does not): at most 5
    targets, 2 per organ, >= 10 mm, a node >= 15 mm short axis (RECIST 1.1, section 3); never a
    portal-vein thrombus (non-measurable, Lencioni & Llovet 2010); under mRECIST a porta-hepatis
    node only from 20 mm (ibid.). One read serves both criteria: what it must pass is
    `check_baseline_read`."""
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
            if lesion.diameter_mm < MIN_NODE_SHORT_AXIS_MM:
                problems.append(
                    f"Lesion {lesion.id}: a target lymph node needs a short axis of at least "
                    f"{MIN_NODE_SHORT_AXIS_MM} mm ({lesion.diameter_mm:g} mm)."
                )
            elif _mrecist_too_small(lesion) and criterion is Criterion.MRECIST:
                problems.append(
                    f"Lesion {lesion.id}: under mRECIST a porta-hepatis target node needs a short "
                    f"axis of at least {MIN_PORTA_HEPATIS_NODE_MM} mm ({lesion.diameter_mm:g} mm)."
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


def _mrecist_too_small(lesion: TargetLesion) -> bool:
    """A porta-hepatis target node too small for mRECIST (a thrombus is refused anyway)."""
    return (
        lesion.nodal
        and lesion.porta_hepatis
        and lesion.organ != THROMBUS
        and lesion.diameter_mm < MIN_PORTA_HEPATIS_NODE_MM
    )


def counted_baseline(baseline: Baseline, criterion: Criterion) -> Baseline:
    """The baseline as `criterion` counts it. Under mRECIST a porta-hepatis node is considered
    malignant only from 20 mm short axis (Lencioni & Llovet 2010): a smaller one is no lesion
    at all, left out of the targets and the sums (its follow-up measurements are unused), while
    iRECIST keeps it as any node (RECIST 1.1: >= 15 mm)."""
    if criterion is not Criterion.MRECIST:
        return baseline
    return replace(
        baseline, targets=tuple(t for t in baseline.targets if not _mrecist_too_small(t))
    )


def check_baseline_read(baseline: Baseline) -> list[str]:
    """Why a baseline read is refused: one read serves both criteria, so it must pass the rules
    of each for the lesions that criterion counts. A porta-hepatis node of 15-19.9 mm is thus
    accepted (a target for iRECIST, left out by mRECIST, with a warning); one under 15 mm is
    refused."""
    problems: list[str] = []
    for criterion in Criterion:
        for problem in check_baseline(counted_baseline(baseline, criterion), criterion):
            if problem not in problems:
                problems.append(problem)
    return problems


def baseline_warnings(baseline: Baseline) -> list[str]:
    """What a valid baseline read holds that the reader should know, as mRECIST reads it
    (Lencioni & Llovet 2010): a porta-hepatis target node under 20 mm is a target for iRECIST
    only; a typical HCC whose viable diameter is under 10 mm is not measurable by mRECIST (it
    stays a target: its viable diameter enters the mRECIST sum)."""
    warnings = []
    for lesion in baseline.targets:
        if _mrecist_too_small(lesion) and lesion.diameter_mm >= MIN_NODE_SHORT_AXIS_MM:
            warnings.append(
                f"Lesion {lesion.id}: a porta-hepatis node of {lesion.diameter_mm:g} mm short "
                f"axis is a target for iRECIST only; mRECIST counts a porta-hepatis node from "
                f"{MIN_PORTA_HEPATIS_NODE_MM} mm and leaves this one out of its targets and sums."
            )
        if lesion.typical_hcc and lesion.viable_mm is not None and lesion.viable_mm < MIN_VIABLE_MM:
            warnings.append(
                f"Lesion {lesion.id}: its viable (arterially enhancing) diameter of "
                f"{lesion.viable_mm:g} mm is under {MIN_VIABLE_MM} mm, not measurable by "
                f"mRECIST; it stays a target."
            )
    return warnings


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
    # None: CR/PR need no confirmation (a randomized trial) and a PR is kept until PD (the
    # spec); days: confirmed that long after (RECIST 1.1), each timepoint judged on its own
    confirm_response_days: int | None = None


@dataclass(frozen=True)
class TimepointResult:
    date: date
    target_sum: float | None  # None when a target was not assessable
    nadir_before: float  # smallest complete sum before this timepoint (baseline included)
    change_from_baseline_pct: float | None
    change_from_nadir_pct: float | None
    target: str  # CR, PR, SD, PD, NE or "" (no targets)
    non_target: str  # CR, NN (non-CR/non-PD), PD, NE or "" (none)
    new_lesion: bool  # a new lesion that counts as progression was seen here (or dated here)
    overall: str  # CR, PR, SD, NN, PD, NE; iRECIST: iCR, iPR, iSD, iNN, iUPD, iCPD, NE


@dataclass(frozen=True)
class SeriesResult:
    criterion: Criterion
    baseline_sum: float
    timepoints: tuple[TimepointResult, ...]
    best_overall_response: str
    first_response_date: date | None
    progression_date: date | None  # mRECIST: first PD; iRECIST: U of the confirmed iUPD
    # (either dated back to the first sighting of an equivocal new lesion later confirmed)
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


def _sum(values: Iterable[float]) -> float:
    return round(sum(values), 6)


def _pd(total: float, nadir: float, options: Options) -> bool:
    if total <= nadir or total < PD_RELATIVE * nadir - EPSILON:
        return False
    floor = options.pd_5mm_floor or options.criterion is Criterion.IRECIST  # iRECIST keeps it
    return not floor or total - nadir >= PD_ABSOLUTE_MM - EPSILON


def _pct(value: float | None, reference: float) -> float | None:
    if value is None or reference == 0:
        return None
    return round(100 * (value - reference) / reference, 1)


def _liver_nodule(lesion: NewLesion) -> bool:
    return lesion.kind is NewLesionKind.NODULE and lesion.organ == "liver"


def _counts_as_new(
    lesion: NewLesion, history: dict[str, list[NewLesion]], criterion: Criterion
) -> bool:
    """Whether a new lesion, as seen now, is unequivocal progression (ignoring equivocal)."""
    if lesion.absent or lesion.equivocal:
        return False
    if lesion.kind is NewLesionKind.EFFUSION:
        return lesion.cytology_positive
    if criterion is Criterion.MRECIST and _liver_nodule(lesion):
        size = lesion.diameter_mm or 0
        if lesion.typical_hcc:
            return size >= NEW_LIVER_NODULE_MM
        earlier = [e.diameter_mm for e in history.get(lesion.id, []) if e.diameter_mm is not None]
        return bool(earlier) and size - min(earlier) >= NEW_NODULE_GROWTH_MM
    if lesion.kind is NewLesionKind.LYMPH_NODE:
        # Lencioni & Llovet 2010: a porta-hepatis node is malignant only from 20 mm (mRECIST
        # alone; iRECIST, like RECIST 1.1, takes any node from 10 mm short axis).
        porta = criterion is Criterion.MRECIST and lesion.porta_hepatis
        return (lesion.diameter_mm or 0) >= (MIN_PORTA_HEPATIS_NODE_MM if porta else NODE_NORMAL_MM)
    return True


def _equivocal(lesion: NewLesion, criterion: Criterion) -> bool:
    """Equivocal when seen: flagged so, or (mRECIST) an atypical new liver nodule, which only
    its later growth can make progression (Lencioni & Llovet 2010)."""
    if lesion.absent:
        return False
    atypical = criterion is Criterion.MRECIST and _liver_nodule(lesion) and not lesion.typical_hcc
    return lesion.equivocal or atypical


class _Reader:
    """Walks a series for one criterion, keeping the nadir and what was seen."""

    def __init__(self, baseline: Baseline, options: Options):
        self.options, self.criterion = options, options.criterion
        self.baseline = counted_baseline(baseline, self.criterion)
        values = [
            _lesion_value(t, t.diameter_mm, t.viable_mm, self.criterion)
            for t in self.baseline.targets
        ]
        self.baseline_sum = _sum(v or 0 for v in values)
        self.nadir = self.baseline_sum
        # RECIST 1.1 with confirmation required judges each timepoint on its own; without it
        # (the spec) a PR is kept until PD.
        self.keep_pr = options.confirm_response_days is None
        self.best_target = None  # "PR" once reached, kept until PD
        self.history: dict[str, list[NewLesion]] = {}
        self.first_seen: dict[str, date] = {}
        self.in_cr = False  # an overall CR not yet followed by anything but CR or NE
        self.known_new: set[str] = set()  # new lesions already judged before an iRECIST reset
        self.known_sizes: dict[str, float | None] = {}  # ... and their sizes at the reset

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
            elif total <= PR_RELATIVE * self.baseline_sum + EPSILON or (
                self.keep_pr and self.best_target == "PR"
            ):
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
            if not lesion.absent:
                self.first_seen.setdefault(lesion.id, fu.date)
            if _counts_as_new(lesion, self.history, self.criterion):
                new_pd = True
                # RECIST 1.1: an equivocal lesion later confirmed dates progression at the scan
                # where it first appeared.
                if any(_equivocal(e, self.criterion) for e in self.history.get(lesion.id, [])):
                    dated = min(dated, self.first_seen.get(lesion.id, fu.date))
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
RANKED = ("CR", "PR", "SD", "NN")


def best_overall(
    timepoints: Sequence[tuple[date, str]],
    *,
    criterion: Criterion,
    enrolled: date,
    options: Options,
) -> tuple[str, date | None]:
    """Best overall response and the date of the first CR/PR that counts, from the timepoint
    responses given (and nothing else: a caller may pass a truncated series, e.g. the scans
    before a new anticancer therapy). Only timepoints up to the first PD (iRECIST: iCPD) count;
    SD (non-CR/non-PD) only from `options.min_sd_days` after enrolment.

    With `options.confirm_response_days` (RECIST 1.1, Table 3), a CR counts only when the next
    assessment at least that many days later is a CR, a PR when it is a CR or a PR; a CR
    followed by a PR counts as a PR (a complete response meets the PR criteria, and the PR
    repeats them). An unconfirmed CR/PR counts as SD when long enough after enrolment. The
    timepoints are then expected strict (no PR carried over, as `evaluate` gives them).

    With nothing qualifying: mRECIST PD if progression was seen, else NE; iRECIST iCPD if
    confirmed, else iUPD if any iUPD was seen, else NE."""
    irecist = criterion is Criterion.IRECIST
    stop = "iCPD" if irecist else "PD"
    considered: list[tuple[date, str]] = []
    for day, response in sorted(timepoints, key=lambda pair: pair[0]):
        considered.append((day, response))
        if response == stop:
            break
    qualifying: set[str] = set()
    first_response = None
    for i, (day, response) in enumerate(considered):
        kind = response.removeprefix("i") if irecist else response
        if kind in ("CR", "PR") and options.confirm_response_days is not None:
            later = considered[i + 1 :]
            kind = _confirmed(kind, day, later, options.confirm_response_days) or "SD"
        if kind in ("CR", "PR"):
            qualifying.add(kind)
            first_response = first_response or day
        elif kind in ("SD", "NN") and (day - enrolled).days >= options.min_sd_days:
            qualifying.add(kind)
    for kind in RANKED:
        if kind in qualifying:
            return (I_PREFIXED[kind] if irecist else kind), first_response
    seen = {response for _, response in considered}
    if irecist:
        return ("iCPD" if "iCPD" in seen else "iUPD" if "iUPD" in seen else "NE"), None
    return ("PD" if "PD" in seen else "NE"), None


def _confirmed(kind: str, day: date, later: Sequence[tuple[date, str]], days: int) -> str | None:
    """What a CR/PR is confirmed as by the next assessment at least `days` later (RECIST 1.1,
    Table 3); None when it is not confirmed."""
    following = [r.removeprefix("i") for d, r in later if (d - day).days >= days]
    if not following:
        return None
    if kind == "CR" and following[0] == "CR":
        return "CR"
    return "PR" if following[0] in ("CR", "PR") else None


def evaluate(
    baseline: Baseline, follow_ups: list[FollowUp], *, options: Options, enrolled: date
) -> SeriesResult:
    """Every timepoint's response, best overall response, date of first response and
    progression date, for one criterion."""
    check_series(baseline, follow_ups)
    return evaluate_checked(baseline, follow_ups, options=options, enrolled=enrolled)


def check_series(baseline: Baseline, follow_ups: list[FollowUp]) -> None:
    """ReadError with every problem of the reads (the same whatever the criterion)."""
    problems = check_baseline_read(baseline)
    previous = None
    for fu in follow_ups:
        problems += check_follow_up(baseline, fu, previous)
        previous = fu.date
    if problems:
        raise ReadError(problems)


def evaluate_checked(
    baseline: Baseline, follow_ups: list[FollowUp], *, options: Options, enrolled: date
) -> SeriesResult:
    """evaluate, for reads check_series accepted (each criterion of a series, checked once)."""
    if options.criterion is Criterion.MRECIST:
        return _evaluate_mrecist(baseline, follow_ups, options, enrolled)
    return _evaluate_irecist(baseline, follow_ups, options, enrolled)


def _with_back_dating(
    timepoints: list[TimepointResult], since: date, overall: str
) -> list[TimepointResult]:
    """Progression dated at an earlier scan (an equivocal new lesion confirmed later, RECIST
    1.1): that scan and every one up to the finding are progression too."""
    return [
        replace(t, overall=overall, new_lesion=True)
        if t.date >= since and t.overall != overall
        else t
        for t in timepoints
    ]


def _evaluate_mrecist(
    baseline: Baseline, follow_ups: list[FollowUp], options: Options, enrolled: date
) -> SeriesResult:
    reader = _Reader(baseline, options)
    timepoints: list[TimepointResult] = []
    progression = None
    for fu in follow_ups:
        result, dated = reader.components(fu)
        if progression is not None:  # after progression every timepoint stays PD
            result = replace(result, overall="PD")
        timepoints.append(result)
        if dated is not None and (progression is None or dated < progression):
            # a lesion confirmed after the first PD may still date progression earlier
            progression = dated
            timepoints = _with_back_dating(timepoints, dated, "PD")
    best, first = best_overall(
        [(t.date, t.overall) for t in timepoints],
        criterion=Criterion.MRECIST,
        enrolled=enrolled,
        options=options,
    )
    return SeriesResult(
        Criterion.MRECIST, reader.baseline_sum, tuple(timepoints), best, first, progression
    )


def _evaluate_irecist(
    baseline: Baseline, follow_ups: list[FollowUp], options: Options, enrolled: date
) -> SeriesResult:
    """iRECIST (Seymour 2017, Tables 2 and 3; iRECIST FAQ) on the RECIST-style components.

    The first RECIST progression opens iUPD. U, its progression date, is that scan; when the
    progression is dated back (an equivocal new lesion confirmed later, RECIST 1.1), U is the
    scan where the lesion was first seen and every scan from it to the finding is iUPD.

    Confirmation, a decision where the sources leave room: iCPD is confirmed at the next
    assessment, 4 to 8 weeks on. A scan under ICPD_CONFIRM_MIN_DAYS (28) days after U is
    disregarded (unless done for new symptoms and showing another new lesion). An assessment
    more than ICPD_CONFIRM_LAST_DAY (56 + 2 x 7 = 70) days after the block's previous one (a
    missed visit) does not confirm: the iUPD stays unconfirmed there (iUPD while a trigger still
    holds or a further new lesion is seen, a reset when none does), and the next assessment in
    time may confirm it, as an iUPD followed by iUPD and then iCPD does in Seymour 2017, Table 3.
    Days are counted from the scan where progression became unequivocal (the finding scan), not
    from a back-dated U: the lesion could not be confirmed before it was found."""
    reader = _Reader(baseline, options)
    timepoints: list[TimepointResult] = []
    # the open iUPD: {"date", "dated", "sum", "new_sum", "categories", "new_ids", ...}
    u: dict | None = None
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
            days = (fu.date - u["date"]).days
            in_time = (fu.date - u["last"]).days <= ICPD_CONFIRM_LAST_DAY
            u["last"] = fu.date
            further_new = bool(new_ids - u["new_ids"])
            if days < ICPD_CONFIRM_MIN_DAYS and not (fu.for_new_symptoms and further_new):
                overall = "iUPD"  # too early to confirm: disregarded
            elif in_time and _confirms(fu, base, u, new_ids, new_target_sum, categories):
                overall, confirmed = "iCPD", True
                progression, icpd_date = u["dated"], fu.date
            elif base.target == "NE" or (
                "non_target" in u["categories"] and base.non_target == "NE"
            ):
                overall = "NE"  # cannot judge: the iUPD stays open (Seymour 2017, Table 3)
            elif not _still_progressing(fu, base, u, new_ids):
                u = None  # reset: the next iUPD is judged afresh from the nadir
                reader.known_new |= new_ids
                reader.known_sizes.update(
                    {n.id: n.diameter_mm for n in fu.new_lesions if n.id in new_ids}
                )
                overall = _i_response(base, fu)
            else:
                overall = "iUPD"
        elif categories - {"new"} or _fresh_new(fu, reader):
            u = {
                "date": fu.date,
                "last": fu.date,
                "dated": dated or fu.date,
                "sum": base.target_sum,
                "new_sum": new_target_sum,
                "categories": categories,
                "new_ids": new_ids,
                "new_sizes": {n.id: n.diameter_mm for n in fu.new_lesions},
            }
            overall = "iUPD"
            timepoints = _with_back_dating(timepoints, u["dated"], "iUPD")
        else:  # only new lesions judged before a reset: not a fresh progression
            overall = _i_response(base, fu)
        timepoints.append(replace(base, overall=overall))
    unconfirmed = u["dated"] if (u is not None and not confirmed) else None
    best, first = best_overall(
        [(t.date, t.overall) for t in timepoints],
        criterion=Criterion.IRECIST,
        enrolled=enrolled,
        options=options,
    )
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
    is now progressing on its own (Seymour 2017, Table 2: the known new-target lesions' sum
    5 mm over its value at the reset, or a known new non-target lesion grown)."""
    known, sizes = reader.known_new, reader.known_sizes
    grown_targets = 0.0
    for lesion in fu.new_lesions:
        if lesion.absent:
            continue
        if lesion.id not in known:
            if _counts_as_new(lesion, {}, Criterion.IRECIST):
                return True
            continue
        before, now = sizes.get(lesion.id), lesion.diameter_mm
        if lesion.target:
            grown_targets += (now or 0) - (before or 0)
        elif lesion.increased or (before is not None and now is not None and now > before):
            return True
    return grown_targets >= ICPD_INCREASE_MM - EPSILON


def _confirms(
    fu: FollowUp,
    base: TimepointResult,
    u: dict,
    new_ids: set[str],
    new_target_sum: float,
    categories: set[str],
) -> bool:
    """iCPD (Seymour 2017, Table 2): measured from U, increases add up."""
    if (
        u["sum"] is not None
        and base.target_sum is not None
        and base.target_sum - u["sum"] >= ICPD_INCREASE_MM - EPSILON
    ):
        return True
    if any(s is NonTargetStatus.FURTHER_INCREASE for s in fu.non_targets.values()):
        return True
    if new_target_sum - u["new_sum"] >= ICPD_INCREASE_MM - EPSILON:
        return True
    if any(n.increased and not n.target and not n.absent for n in fu.new_lesions):
        return True
    if new_ids - u["new_ids"]:
        return True  # any further new lesion
    return bool(categories - u["categories"])  # PD in a category not progressing at U


def _still_progressing(fu: FollowUp, base: TimepointResult, u: dict, new_ids: set[str]) -> bool:
    """Whether an iUPD trigger still holds; otherwise the response resets (Seymour 2017,
    Table 3). Target or non-target PD holds, and so does a new lesion from U that has grown
    (or cannot be compared with U). One that is unchanged holds ("no change ... remains
    iUPD"), unless the iUPD was opened by new lesions alone and the target sum has shrunk
    further below its value at U: then the new lesions alone, neither growing nor joined by
    others, do not keep it open. New lesions gone or smaller hold nothing."""
    if base.target == "PD" or base.non_target == "PD" or new_ids - u["new_ids"]:
        return True  # a further new lesion is progression (Table 2), never a reset
    unchanged = False
    for lesion in fu.new_lesions:
        if lesion.id not in u["new_ids"] or lesion.absent:
            continue
        before, now = u["new_sizes"].get(lesion.id), lesion.diameter_mm
        if lesion.increased or (before is None) != (now is None):
            return True  # grown, or not to be compared with U
        if before is not None and now > before + EPSILON:
            return True
        if before is None or now > before - EPSILON:
            unchanged = True
    if not unchanged:
        return False
    shrunk = (
        u["categories"] == {"new"}
        and u["sum"] is not None
        and base.target_sum is not None
        and base.target_sum < u["sum"] - EPSILON
    )
    return not shrunk
