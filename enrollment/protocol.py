"""Protocol constants for screening (NCT05962450 registry record) and plausibility limits.

No Django import: the pure rules in eligibility.py and the forms both read from here.
"""

from decimal import Decimal

AGE_MIN_YEARS = 18
AGE_MAX_YEARS = 75
GFR_MIN_ML_MIN = 60  # exclusion: GFR < 60 mL/min
BILIRUBIN_ULN_EXCLUSION_MULTIPLE = Decimal(2)  # exclusion: total bilirubin >= 2 x ULN
CHILD_PUGH_ELIGIBLE_CLASSES = ("A", "B")

# Unit conversions (standard molar masses as used by the spec).
BILIRUBIN_UMOL_L_PER_MG_DL = Decimal("17.1")
CREATININE_UMOL_L_PER_MG_DL = Decimal("88.4")
ALBUMIN_G_L_PER_G_DL = Decimal(10)

BILIRUBIN_UNITS = ("umol/L", "mg/dL")
ALBUMIN_UNITS = ("g/L", "g/dL")
CREATININE_UNITS = ("umol/L", "mg/dL")

# Plausibility limits, in the canonical unit, beyond which a value is a typing error rather
# than a patient: refused with a message naming the range in the unit the user chose.
PLAUSIBLE = {
    "height_cm": (Decimal(100), Decimal(230)),
    "weight_kg": (Decimal(25), Decimal(250)),
    "bilirubin_umol_l": (Decimal("1"), Decimal("900")),
    "bilirubin_uln_umol_l": (Decimal("5"), Decimal("60")),
    "albumin_g_l": (Decimal("10"), Decimal("65")),
    "inr": (Decimal("0.5"), Decimal("10")),
    "creatinine_umol_l": (Decimal("10"), Decimal("2000")),
    "measured_gfr_ml_min": (Decimal("1"), Decimal("250")),
}
