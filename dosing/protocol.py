"""Dosing constants of NCT05962450 (registry record; spec enrollment-and-dosing.md, Dosing)."""

from decimal import Decimal

MAX_COURSES = 6
COURSE_INTERVAL_DAYS = 14
DEFAULT_WINDOW_DAYS = 3
TARGET_CELLS_PER_M2_MIN = 10**8
TARGET_CELLS_PER_M2_MAX = 10**9
# Cells infused below this fraction of the computed dose count as a reduced dose.
REDUCED_DOSE_FRACTION = Decimal("0.90")
INCREASED_DOSE_FRACTION = Decimal("1.10")
# The first course is planned within this many days of randomization.
MAX_DAYS_TO_FIRST_COURSE = 90
# Body measurements beyond these are typing errors, not patients (refused unless a deviation).
HEIGHT_CM_RANGE = (Decimal(100), Decimal(230))
WEIGHT_KG_RANGE = (Decimal(25), Decimal(250))
BSA_M2_RANGE = (Decimal("0.8"), Decimal("3.0"))
DUE_SOON_DAYS = 3  # the daily reminder flags courses due within this many days

# The cell product's release (dosing.chain). NCT05962450 does not state an iNKT purity
# criterion: this is a product-owner setting, to be confirmed against the trial's product
# specification (IMPD) before use. Purity = % of CD3+ cells that are Va24+ Vb11+ (or 6B11+).
INKT_PURITY_MIN_PERCENT = 90
