from django.urls import reverse

from accounts.navigation import NAV_ITEMS
from accounts.roles import ROLES, roles_of


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "user_roles": []}
    granted = user.get_all_permissions()  # has_perm's answers, asked once (issue 16)
    items, menus = [], {}
    for item in NAV_ITEMS:
        if item.permission is not None and item.permission not in granted:
            continue
        entry = {"label": item.label, "url": reverse(item.url_name)}
        if item.menu is None:
            items.append(entry)
            continue
        if item.menu not in menus:  # the menu stands where its first entry would
            menus[item.menu] = {"label": item.menu, "menu": []}
            items.append(menus[item.menu])
        menus[item.menu]["menu"].append(entry)
    return {"nav_items": items, "user_roles": [ROLES[r] for r in roles_of(user)]}
