from django.db import models


class CtcaeTerm(models.Model):
    """One CTCAE v5.0 term (read-only reference data, loaded by a migration)."""

    meddra_code = models.PositiveIntegerField(unique=True)
    soc = models.CharField("system organ class", max_length=120, db_index=True)
    term = models.CharField(max_length=200, db_index=True)
    grade1 = models.TextField(blank=True)
    grade2 = models.TextField(blank=True)
    grade3 = models.TextField(blank=True)
    grade4 = models.TextField(blank=True)
    grade5 = models.TextField(blank=True)
    definition = models.TextField(blank=True)

    class Meta:
        ordering = ["soc", "term"]
        verbose_name = "CTCAE term"

    def __str__(self):
        return f"{self.term} ({self.meddra_code})"

    @property
    def grades(self) -> dict[int, str]:
        return {g: getattr(self, f"grade{g}") for g in range(1, 6) if getattr(self, f"grade{g}")}
