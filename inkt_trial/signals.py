"""Signals the lower apps send for the apps above them to act on (inkt_trial/layers.py: an app
never imports an app above it)."""

from django.dispatch import Signal

# Records of these patients were written in bulk, without their models' post_save (the
# synthetic trial's bulk path, outcomes/synthetic_bulk.py): keyword `patient_ids`. The data
# management app runs its edit checks for them once the writing transaction commits.
records_written_in_bulk = Signal()
