"""Body-surface area, iNKT cell dose, the infusion schedule, deviations and exposure.

Pure module (no Django). Sources:
- Mosteller RD. Simplified calculation of body-surface area. N Engl J Med 1987;317:1098.
- Du Bois D, Du Bois EF. A formula to estimate the approximate surface area if height and
  weight be known. Arch Intern Med 1916;17:863-71.
- NCT05962450: iNKT cells every 14 days as one course, up to 6 courses, about 10^8-10^9 cells/m2.
- Relative dose intensity: Hryniuk W, Bush H. The importance of dose intensity in chemotherapy
  of metastatic breast cancer. J Clin Oncol 1984;2:1281-8 (delivered dose per unit time over the
  planned dose per unit time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from dosing import protocol
from enrollment.dates import shown
from enrollment.status import still_owed


class Formula(StrEnum):
    MOSTELLER = "mosteller"
    DUBOIS = "dubois"


def bsa_m2(*, height_cm, weight_kg, formula: Formula | str = Formula.MOSTELLER) -> Decimal:
    """Body-surface area in m2, to 4 decimals. Mosteller: sqrt(height x weight / 3600);
    DuBois: 0.007184 x weight^0.425 x height^0.725."""
    height, weight = float(height_cm), float(weight_kg)
    if height <= 0 or weight <= 0:
        raise ValueError("height and weight must be positive")
    if Formula(formula) is Formula.MOSTELLER:
        value = math.sqrt(height * weight / 3600)
    else:
        value = 0.007184 * weight**0.425 * height**0.725
    return Decimal(str(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def body_problems(*, height_cm, weight_kg) -> list[str]:
    """Why a height or weight cannot be a patient's (empty when plausible)."""
    problems = []
    low, high = protocol.HEIGHT_CM_RANGE
    if not low <= Decimal(str(height_cm)) <= high:
        problems.append(f"Height {height_cm} cm is outside {low}-{high} cm.")
    low, high = protocol.WEIGHT_KG_RANGE
    if not low <= Decimal(str(weight_kg)) <= high:
        problems.append(f"Weight {weight_kg} kg is outside {low}-{high} kg.")
    return problems


def cell_dose(*, target_cells_per_m2: int, bsa: Decimal) -> int:
    """Cells to infuse = target cells per m2 x BSA, rounded to whole cells."""
    return int((Decimal(target_cells_per_m2) * bsa).to_integral_value(rounding=ROUND_HALF_UP))


def target_in_range(target_cells_per_m2: int) -> bool:
    return (
        protocol.TARGET_CELLS_PER_M2_MIN <= target_cells_per_m2 <= protocol.TARGET_CELLS_PER_M2_MAX
    )


@dataclass(frozen=True)
class PlannedCourse:
    number: int
    planned: date
    window_start: date
    window_end: date


def schedule(
    *,
    anchor: date,
    window_days: int = protocol.DEFAULT_WINDOW_DAYS,
    courses: int = protocol.MAX_COURSES,
) -> list[PlannedCourse]:
    """Course k is planned on day 1 + 14(k-1) from the anchor: the first infusion's actual date
    once given, until then its planned date. Each course has a window of +/- window_days."""
    if window_days < 0:
        raise ValueError("the window cannot be negative")
    out = []
    for k in range(1, courses + 1):
        planned = anchor + timedelta(days=protocol.COURSE_INTERVAL_DAYS * (k - 1))
        out.append(
            PlannedCourse(
                k,
                planned,
                planned - timedelta(days=window_days),
                planned + timedelta(days=window_days),
            )
        )
    return out


def owed_window(start: date, end: date, stop: date | None) -> tuple[date, date] | None:
    """A course's window once the iNKT cells stopped on `stop` (the last day they may be
    given): None when it opens later (not applicable), closing on the stop when open then."""
    if not still_owed(start, stop):
        return None
    return start, end if stop is None else min(end, stop)


def planned_courses(
    *, anchor: date, window_days: int, stop: date | None = None
) -> list[PlannedCourse]:
    """The courses of the schedule still owed when the iNKT cells stopped on `stop`, each
    window cut by the stop (owed_window); every course when nothing stopped them."""
    found = []
    for course in schedule(anchor=anchor, window_days=window_days):
        owed = owed_window(course.window_start, course.window_end, stop)
        if owed is not None:
            found.append(PlannedCourse(course.number, course.planned, *owed))
    return found


def pending_state(course: PlannedCourse, today: date) -> str:
    """A course not yet recorded: "overdue" once its window has passed, "due" within
    DUE_SOON_DAYS of its planned date, otherwise "planned"."""
    if today > course.window_end:
        return "overdue"
    if (course.planned - today).days <= protocol.DUE_SOON_DAYS:
        return "due"
    return "planned"


class Deviation(StrEnum):
    DELAYED = "delayed"
    OUTSIDE_WINDOW = "outside_window"
    MISSED = "missed"
    REDUCED_DOSE = "reduced_dose"
    INCREASED_DOSE = "increased_dose"
    DOSE_OUT_OF_RANGE = "dose_out_of_range"
    IMPLAUSIBLE_BODY = "implausible_body"


DEVIATION_TEXT = {
    Deviation.DELAYED: "Given after its window (delayed)",
    Deviation.OUTSIDE_WINDOW: "Given outside its window",
    Deviation.MISSED: "Course missed",
    Deviation.REDUCED_DOSE: "Reduced dose (below 90% of the computed dose)",
    Deviation.INCREASED_DOSE: "Increased dose (above 110% of the computed dose)",
    Deviation.DOSE_OUT_OF_RANGE: "Dose outside 10^8-10^9 cells/m2",
    Deviation.IMPLAUSIBLE_BODY: "BSA from a height or weight outside the plausible range",
}


def deviations(
    *,
    course: PlannedCourse,
    given_on: date | None,
    computed_dose: int | None,
    cells_infused: int | None,
    target_cells_per_m2: int | None,
    bsa: Decimal | None,
    body_ok: bool = True,
) -> list[Deviation]:
    """Every deviation of one course from the protocol, derived, in a fixed order."""
    if given_on is None:
        return [Deviation.MISSED]
    found = []
    if given_on > course.window_end:
        found.append(Deviation.DELAYED)
    if not course.window_start <= given_on <= course.window_end:
        found.append(Deviation.OUTSIDE_WINDOW)
    if (
        computed_dose
        and cells_infused is not None
        and Decimal(cells_infused) < protocol.REDUCED_DOSE_FRACTION * computed_dose
    ):
        found.append(Deviation.REDUCED_DOSE)
    if (
        computed_dose
        and cells_infused is not None
        and Decimal(cells_infused) > protocol.INCREASED_DOSE_FRACTION * computed_dose
    ):
        found.append(Deviation.INCREASED_DOSE)
    per_m2_ok = (
        bsa is not None
        and cells_infused is not None
        and protocol.TARGET_CELLS_PER_M2_MIN
        <= Decimal(cells_infused) / bsa
        <= protocol.TARGET_CELLS_PER_M2_MAX
    )
    if target_cells_per_m2 is not None and (
        not target_in_range(target_cells_per_m2) or not per_m2_ok
    ):
        found.append(Deviation.DOSE_OUT_OF_RANGE)
    if not body_ok:
        found.append(Deviation.IMPLAUSIBLE_BODY)
    return found


@dataclass(frozen=True)
class CourseRecord:
    number: int
    planned_on: date
    given_on: date | None  # None: missed
    cells_infused: int


@dataclass(frozen=True)
class Exposure:
    courses_given: int
    courses_missed: int
    cumulative_cells: int
    planned_cells: int  # what the courses due so far would have delivered as planned
    relative_dose_intensity: Decimal | None  # delivered / planned dose per unit time


def exposure(records: list[CourseRecord], *, reference_dose: int | None) -> Exposure:
    """Courses given, cumulative cells and relative dose intensity.

    RDI = (cells delivered / days of treatment) / (planned cells per course / 14 days), where
    the days of treatment run from the first infusion to 14 days after the last course recorded,
    given or missed (a missed course is time on treatment without dose), and the planned cells
    per course are `reference_dose` (the schedule's target x the BSA at the first infusion).
    None until a course has been given."""
    given = [r for r in records if r.given_on is not None]
    cumulative = sum(r.cells_infused for r in given)
    planned = (reference_dose or 0) * len(records)
    rdi = None
    if given and reference_dose:
        first = min(r.given_on for r in given)
        last = max(r.given_on or r.planned_on for r in records)
        days = (last - first).days + protocol.COURSE_INTERVAL_DAYS
        delivered_per_day = Decimal(cumulative) / days
        planned_per_day = Decimal(reference_dose) / protocol.COURSE_INTERVAL_DAYS
        rdi = (delivered_per_day / planned_per_day).quantize(Decimal("0.001"), ROUND_HALF_UP)
    return Exposure(
        courses_given=len(given),
        courses_missed=len(records) - len(given),
        cumulative_cells=cumulative,
        planned_cells=planned,
        relative_dose_intensity=rdi,
    )


def parse_cells(text: str) -> int:
    """A cell count as typed: 500000000, 5e8, 5E8, 5x10^8, 5×10^8, 5*10^8 (whole cells)."""
    cleaned = text.strip().replace(" ", "").replace(",", "").replace("×", "x").replace("*", "x")
    if cleaned.lower().count("x10^") == 1:
        mantissa, exponent = cleaned.lower().split("x10^")
        cleaned = f"{mantissa}e{exponent}"
    try:
        value = Decimal(cleaned)
    except ArithmeticError:
        raise ValueError(f"{text!r} is not a number of cells (e.g. 5e8 or 500000000)") from None
    if not value.is_finite() or value != value.to_integral_value() or value < 0:
        raise ValueError(f"{text!r} is not a whole, positive number of cells")
    if value > 10**13:
        raise ValueError(f"{text!r} is far beyond any dose of this trial")
    return int(value)


def missed_too_early(course: PlannedCourse, today: date) -> str | None:
    """A course is recorded as missed only once its window has opened."""
    if today < course.window_start:
        return (
            f"Course {course.number} is planned for {shown(course.planned)} (window from "
            f"{shown(course.window_start)}): it cannot be recorded as missed before its window "
            "opens."
        )
    return None


SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def cell_count(value, digits: int = 4) -> str:
    """A number of cells as people write it, "8.641 × 10⁸" (up to `digits` significant digits,
    trailing zeros dropped), never "8.641e+8"."""
    number = float(value)
    if abs(number) < 10_000:  # small counts as they are
        return f"{number:,.0f}"
    exponent = math.floor(math.log10(abs(number)))
    mantissa = round(number / 10**exponent, digits - 1)
    if abs(mantissa) >= 10:  # 9.999 rounds up to 10.0: carry into the exponent
        mantissa, exponent = mantissa / 10, exponent + 1
    text = f"{mantissa:.{digits - 1}f}".rstrip("0").rstrip(".")
    return text if exponent == 0 else f"{text} × 10{str(exponent).translate(SUPERSCRIPT)}"
