"""A reader's measurements as JSON (the reading form, the API, a radiology workstation), turned
into the response engine's types; reader agreement; the imaging schedule.

Pure module (no Django). The JSON format is documented in the README.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import NamedTuple

from assessments import recist
from assessments.recist import (
    Baseline,
    Criterion,
    FollowUp,
    Measurement,
    NewLesion,
    NewLesionKind,
    NonTargetLesion,
    NonTargetStatus,
    ReadError,
    SeriesResult,
    TargetLesion,
)

VISIT_INTERVAL_DAYS = 56
BASELINE_WINDOW_DAYS = 28  # baseline imaging within the 28 days before randomization
VISIT_WINDOW_DAYS = 7
# "Evaluation was performed every 8 weeks after the start of the treatment, up to 24 months"
# (NCT05962450, ORR and DCR): the schedule ends at 730 days, its last visit the 13th (day 728).
IMAGING_HORIZON_DAYS = 730
MAX_VISITS = IMAGING_HORIZON_DAYS // VISIT_INTERVAL_DAYS  # 13
BASELINE_MAX_DAYS_BEFORE_RANDOMIZATION = 28


def _number(value, where: str, problems: list[str], *, allow_none=False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{where}: a number of millimetres is needed.")
        return None
    if not 0 <= value <= 500:
        problems.append(f"{where}: {value} mm is outside 0-500 mm.")
        return None
    return float(value)


def _text(value, where: str, problems: list[str]) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 40:
        problems.append(f"{where}: a short text is needed.")
        return ""
    return value.strip()


def _flag(item: dict, key: str, where: str, problems: list[str]) -> bool:
    """A yes/no as JSON true or false (the text "false" is not false)."""
    value = item.get(key, False)
    if not isinstance(value, bool):
        problems.append(f"{where}: {key} must be true or false.")
        return False
    return value


def _items(data: dict, key: str, problems: list[str]) -> list[dict]:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        problems.append(f"{key}: a list of objects is needed.")
        return []
    if len(items) > 50:
        problems.append(f"{key}: at most 50 entries.")
        return []
    return items


def parse_baseline(day: date, data) -> Baseline:
    """{"targets": [{"id", "organ", "diameter_mm", "nodal", "typical_hcc", "viable_mm",
    "porta_hepatis"}], "non_targets": [{"id", "organ", "nodal"}]}"""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ReadError(["A baseline read is an object with targets and non_targets."])
    targets = []
    for i, item in enumerate(_items(data, "targets", problems), start=1):
        where = f"Target {i}"
        lesion = TargetLesion(
            id=_text(item.get("id"), f"{where} id", problems),
            organ=_text(item.get("organ"), f"{where} organ", problems),
            diameter_mm=_number(item.get("diameter_mm"), f"{where} diameter", problems) or 0,
            nodal=_flag(item, "nodal", where, problems),
            typical_hcc=_flag(item, "typical_hcc", where, problems),
            viable_mm=_number(
                item.get("viable_mm"), f"{where} viable diameter", problems, allow_none=True
            ),
            porta_hepatis=_flag(item, "porta_hepatis", where, problems),
        )
        targets.append(lesion)
    non_targets = [
        NonTargetLesion(
            id=_text(item.get("id"), f"Non-target {i} id", problems),
            organ=_text(item.get("organ"), f"Non-target {i} organ", problems),
            nodal=_flag(item, "nodal", f"Non-target {i}", problems),
        )
        for i, item in enumerate(_items(data, "non_targets", problems), start=1)
    ]
    if not targets and not non_targets:
        problems.append("A baseline read lists at least one lesion.")
    baseline = Baseline(day, tuple(targets), tuple(non_targets))
    problems += recist.check_baseline_read(baseline)
    if problems:
        raise ReadError(problems)
    return baseline


def parse_follow_up(day: date, data) -> FollowUp:
    """{"measurements": [{"lesion_id", "diameter_mm" (null = not assessable), "viable_mm"}],
    "non_targets": {"id": "present" | "absent" | "unequivocal_progression" |
    "further_increase" | "not_assessed"}, "new_lesions": [{"id", "organ", "kind",
    "diameter_mm", "typical_hcc", "equivocal", "cytology_positive", "target", "increased",
    "absent", "porta_hepatis"}], "for_new_symptoms": false}"""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ReadError(["A follow-up read is an object with measurements."])
    measurements = []
    for i, item in enumerate(_items(data, "measurements", problems), start=1):
        where = f"Measurement {i}"
        measurements.append(
            Measurement(
                lesion_id=_text(item.get("lesion_id"), f"{where} lesion_id", problems),
                diameter_mm=_number(
                    item.get("diameter_mm"), f"{where} diameter", problems, allow_none=True
                ),
                viable_mm=_number(
                    item.get("viable_mm"), f"{where} viable diameter", problems, allow_none=True
                ),
            )
        )
    statuses = {}
    raw = data.get("non_targets", {})
    if not isinstance(raw, dict):
        problems.append("non_targets: an object of lesion id to status is needed.")
        raw = {}
    for lesion_id, status in raw.items():
        try:
            statuses[str(lesion_id)] = NonTargetStatus(status)
        except ValueError:
            problems.append(f"Non-target {lesion_id}: unknown status {status!r}.")
    new_lesions = []
    for i, item in enumerate(_items(data, "new_lesions", problems), start=1):
        where = f"New lesion {i}"
        try:
            kind = NewLesionKind(item.get("kind", "nodule"))
        except ValueError:
            problems.append(f"{where}: unknown kind {item.get('kind')!r}.")
            kind = NewLesionKind.OTHER
        new_lesions.append(
            NewLesion(
                id=_text(item.get("id"), f"{where} id", problems),
                organ=_text(item.get("organ"), f"{where} organ", problems),
                kind=kind,
                diameter_mm=_number(
                    item.get("diameter_mm"), f"{where} diameter", problems, allow_none=True
                ),
                typical_hcc=_flag(item, "typical_hcc", where, problems),
                equivocal=_flag(item, "equivocal", where, problems),
                cytology_positive=_flag(item, "cytology_positive", where, problems),
                target=_flag(item, "target", where, problems),
                increased=_flag(item, "increased", where, problems),
                absent=_flag(item, "absent", where, problems),
                porta_hepatis=_flag(item, "porta_hepatis", where, problems),
            )
        )
    for label, ids in (
        ("measurements", [m.lesion_id for m in measurements]),
        ("new_lesions", [n.id for n in new_lesions]),
    ):
        if len(ids) != len(set(ids)):
            problems.append(f"{label}: each lesion only once.")
    follow_up = FollowUp(
        day,
        tuple(measurements),
        statuses,
        tuple(new_lesions),
        _flag(data, "for_new_symptoms", "The read", problems),
    )
    if problems:
        raise ReadError(problems)
    return follow_up


def evaluate_series(
    reads: list[tuple[date, dict]], *, enrolled: date, criterion: Criterion
) -> SeriesResult:
    """A reader's series (baseline read first, then follow-ups in date order) for a criterion."""
    baseline, follow_ups = _parsed(reads)
    return recist.evaluate(
        baseline, follow_ups, options=recist.Options(criterion), enrolled=enrolled
    )


def evaluate_criteria(
    reads: list[tuple[date, dict]], *, enrolled: date
) -> dict[Criterion, SeriesResult]:
    """evaluate_series for every criterion, the reads parsed and checked once."""
    baseline, follow_ups = _parsed(reads)
    recist.check_series(baseline, follow_ups)
    return {
        c: recist.evaluate_checked(
            baseline, follow_ups, options=recist.Options(c), enrolled=enrolled
        )
        for c in Criterion
    }


def _parsed(reads: list[tuple[date, dict]]) -> tuple[Baseline, list[FollowUp]]:
    if not reads:
        raise ReadError(["No baseline read."])
    (base_day, base_data), *rest = reads
    return parse_baseline(base_day, base_data), [parse_follow_up(day, data) for day, data in rest]


def cleaned(day: date, data, *, baseline: bool) -> dict:
    """A read as the rules understood it (what is stored); ReadError when refused."""
    return to_json(parse_baseline(day, data) if baseline else parse_follow_up(day, data))


def check_series(reads: list[tuple[date, dict]], *, enrolled: date) -> None:
    """A reader's whole series must evaluate under every criterion; ReadError if not."""
    evaluate_criteria(reads, enrolled=enrolled)


def baseline_warnings(day: date, data) -> list[str]:
    """What the rules accept in a baseline read but the reader should know
    (recist.baseline_warnings); none for a read they refuse (its errors say it all)."""
    try:
        return recist.baseline_warnings(parse_baseline(day, data))
    except ReadError:
        return []


def disagreements(a: SeriesResult, b: SeriesResult) -> list[str]:
    """Where two readers' series differ: any timepoint response or the progression date."""
    found = []
    for ta, tb in zip(a.timepoints, b.timepoints, strict=False):
        if ta.overall != tb.overall:
            found.append(f"{a.criterion.value} {ta.date}: {ta.overall} vs {tb.overall}")
    if len(a.timepoints) != len(b.timepoints):
        found.append(f"{a.criterion.value}: {len(a.timepoints)} vs {len(b.timepoints)} timepoints")
    if a.progression_date != b.progression_date:
        found.append(
            f"{a.criterion.value} progression: {a.progression_date} vs {b.progression_date}"
        )
    return found


def cohen_kappa(pairs: Iterable[tuple[str, str]]) -> float | None:
    """Cohen's kappa for two raters' categories (Cohen J. Educ Psychol Meas 1960;20:37-46):
    (observed agreement - chance agreement) / (1 - chance agreement). None without data, 1.0
    when both raters used one and the same category throughout."""
    pairs = list(pairs)
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(1 for x, y in pairs if x == y) / n
    first, second = Counter(x for x, _ in pairs), Counter(y for _, y in pairs)
    chance = sum(first[c] * second[c] for c in set(first) | set(second)) / (n * n)
    if chance == 1:
        return 1.0
    return round((observed - chance) / (1 - chance), 3)


def visit_schedule(enrolled: date, *, until: date) -> list[tuple[int, date, date, date]]:
    """Imaging visits every 56 days (+/- 7) from enrolment, up to `until` and at most 24 months
    (IMAGING_HORIZON_DAYS): (number, planned, window start, window end)."""
    visits, k = [], 1
    while True:
        planned = enrolled + timedelta(days=VISIT_INTERVAL_DAYS * k)
        if planned - timedelta(days=VISIT_WINDOW_DAYS) > until or (
            (planned - enrolled).days > IMAGING_HORIZON_DAYS
        ):
            return visits
        visits.append(
            (
                k,
                planned,
                planned - timedelta(days=VISIT_WINDOW_DAYS),
                planned + timedelta(days=VISIT_WINDOW_DAYS),
            )
        )
        k += 1


def files_to_visit(window_start: date, scan_day: date) -> bool:
    """Whether a scan belongs to the visit whose window opens on `window_start`: from the
    window's opening until the next visit's window opens, so that a late scan still counts for
    its visit (and is then late), never for the next one."""
    return window_start <= scan_day < window_start + timedelta(days=VISIT_INTERVAL_DAYS)


@dataclass(frozen=True)
class SignedRead:
    """A reader's signed read of one scan, as the accepted series needs it."""

    scan_id: int
    scan_date: date
    baseline: bool
    data: dict


def accepted(
    reads_1: Iterable[SignedRead],
    reads_2: Iterable[SignedRead],
    adjudications: Iterable[tuple[date, int]],
    *,
    enrolled: date,
    cutoff: date | None = None,
    earlier_extent: bool = False,
    evaluate=None,
) -> dict[Criterion, SeriesResult] | None:
    """The accepted series, by criterion: over the scans both readers signed (up to `cutoff`
    when given), the readers' own when they agree on both criteria, else the reader the
    adjudicator accepted for that extent of scans (an adjudication covering it or a later
    extent). None while there is no follow-up signed by both, or a discordance awaits its
    adjudication; with `earlier_extent` (the endpoints), then the longest earlier extent that
    is agreed or adjudicated, so that a pending case keeps what was already settled.
    `evaluate` (evaluate_criteria by default) evaluates one reader's series by every
    criterion: the stored evaluations (series_codec.Evaluations) answer it without evaluating
    again."""
    found = accepted_reads(
        reads_1,
        reads_2,
        adjudications,
        enrolled=enrolled,
        cutoff=cutoff,
        earlier_extent=earlier_extent,
        evaluate=evaluate,
    )
    return None if found is None else found[0]


def accepted_reads(
    reads_1: Iterable[SignedRead],
    reads_2: Iterable[SignedRead],
    adjudications: Iterable[tuple[date, int]],
    *,
    enrolled: date,
    cutoff: date | None = None,
    earlier_extent: bool = False,
    evaluate=None,
) -> tuple[dict[Criterion, SeriesResult], list[SignedRead]] | None:
    """As `accepted`, with the signed reads the accepted series was evaluated from (the
    accepted reader's, baseline first, within its extent): the SDTM TU and TR domains show
    those measurements, never the other reader's."""
    reads_1, reads_2, adjudications = list(reads_1), list(reads_2), list(adjudications)
    found = _accepted(
        reads_1, reads_2, adjudications, enrolled=enrolled, cutoff=cutoff, evaluate=evaluate
    )
    if found is not None or not earlier_extent:
        return found
    both = {r.scan_id for r in reads_1} & {r.scan_id for r in reads_2}
    dates = sorted(
        {r.scan_date for r in reads_1 if r.scan_id in both and not r.baseline}, reverse=True
    )
    for until in dates[1:]:
        if cutoff is not None and until > cutoff:
            continue
        found = _accepted(
            reads_1, reads_2, adjudications, enrolled=enrolled, cutoff=until, evaluate=evaluate
        )
        if found is not None:
            return found
    return None


class Comparison(NamedTuple):
    """Two readers' series over the scans both signed (up to a cut-off): by reader, the
    series by criterion and the reads they were evaluated from; the last scan compared."""

    series: tuple[dict[Criterion, SeriesResult], dict[Criterion, SeriesResult]]
    reads: tuple[list[SignedRead], list[SignedRead]]
    until: date

    def disagreements(self) -> list[str]:
        one, two = self.series
        return [d for c in Criterion for d in disagreements(one[c], two[c])]


def compare(
    reads_1, reads_2, *, enrolled: date, cutoff: date | None = None, evaluate=None
) -> Comparison | None:
    """Both readers' series over the scans both signed (up to `cutoff`), or None while there
    is no follow-up signed by both (or the baseline is not among them). `evaluate` as in
    `accepted`."""
    evaluate = evaluate or evaluate_criteria
    kept = [
        {r.scan_id: r for r in reads if cutoff is None or r.scan_date <= cutoff}
        for reads in (reads_1, reads_2)
    ]
    shared = set(kept[0]) & set(kept[1])
    if len(shared) < 2:
        return None

    ordered = [
        sorted((reads[i] for i in shared), key=lambda r: (not r.baseline, r.scan_date))
        for reads in kept
    ]

    def both_criteria(reads: list[SignedRead]):
        if not reads[0].baseline:
            return None
        return evaluate([(r.scan_date, r.data) for r in reads], enrolled=enrolled)

    series = [both_criteria(reads) for reads in ordered]
    if series[0] is None or series[1] is None:
        return None
    until = max(kept[0][i].scan_date for i in shared)
    return Comparison((series[0], series[1]), (ordered[0], ordered[1]), until)


def discordance(reads_1, reads_2, *, enrolled: date) -> list[str] | None:
    """None until both readers have signed a follow-up; then where their series differ over
    the scans both signed (empty: they agree)."""
    compared = compare(reads_1, reads_2, enrolled=enrolled)
    return None if compared is None else compared.disagreements()


def _accepted(reads_1, reads_2, adjudications, *, enrolled, cutoff, evaluate):
    compared = compare(reads_1, reads_2, enrolled=enrolled, cutoff=cutoff, evaluate=evaluate)
    if compared is None:
        return None
    series, ordered, until = compared
    if not compared.disagreements():
        return series[0], ordered[0]
    covering = sorted((day, slot) for day, slot in adjudications if day >= until)
    if not covering:
        return None
    return series[covering[0][1] - 1], ordered[covering[0][1] - 1]


def to_json(read: Baseline | FollowUp) -> dict:
    """The read as stored: what the rules understood, nothing else (no stray keys)."""
    if isinstance(read, Baseline):
        return {
            "targets": [asdict(t) for t in read.targets],
            "non_targets": [asdict(n) for n in read.non_targets],
        }
    return {
        "measurements": [asdict(m) for m in read.measurements],
        "non_targets": {k: v.value for k, v in read.non_targets.items()},
        "new_lesions": [{**asdict(n), "kind": n.kind.value} for n in read.new_lesions],
        "for_new_symptoms": read.for_new_symptoms,
    }


def progression_stop(found: dict[Criterion, SeriesResult] | None) -> date | None:
    """The scan date at which progression is established on the accepted series by both
    criteria (mRECIST PD and iRECIST iCPD, the later of the two), or None: imaging and study
    treatment stop there (the protocol: "until radiological progression (according to
    mRECIST/iRECIST)")."""
    if found is None:
        return None
    accepted = [found[c] for c in Criterion]
    if all(s is not None and s.progression_date for s in accepted):
        return max(s.icpd_scan_date or s.progression_date for s in accepted)
    return None
