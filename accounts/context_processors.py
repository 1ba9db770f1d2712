from django.urls import reverse

from accounts.navigation import NAV_ITEMS
from accounts.roles import ROLES, roles_of


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": []}
    items = [
        {"label": item.label, "url": reverse(item.url_name)}
        for item in NAV_ITEMS
        if item.permission is None or user.has_perm(item.permission)
    ]
    return {"nav_items": items, "user_roles": [ROLES[r] for r in roles_of(user)]}
