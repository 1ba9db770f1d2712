class DomainError(Exception):
    """A refused operation with a message for the user; the API answers it with 400.

    `field_errors` maps field names to messages when the refusal concerns particular fields.
    """

    def __init__(self, message: str = "", *, field_errors: dict[str, list[str]] | None = None):
        self.message = message
        self.field_errors = field_errors or {}
        super().__init__(
            message or "; ".join(f"{k}: {' '.join(v)}" for k, v in self.field_errors.items())
        )

    @property
    def messages(self) -> list[str]:
        """Every message: the per-field ones, or the general one."""
        found = [m for msgs in self.field_errors.values() for m in msgs]
        return found or ([self.message] if self.message else [])
