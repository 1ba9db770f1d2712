from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def plain(value):
    """A decimal without its trailing zeros nor an exponent: 200, 1.5 (not 2E+2, 1.5000)."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return "" if value is None else value
