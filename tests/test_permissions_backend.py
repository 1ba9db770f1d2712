"""A request's permissions and roles in one query (accounts/backends.py), with the answers
Django's ModelBackend gives on its own: each role's permissions, a permission given to the user
directly, a group without permissions, a superuser, an inactive user."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import roles
from accounts.backends import Permissions, group_names
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def model_backend(user):
    """What ModelBackend alone reads for this user (its own queries, nothing cached)."""
    backend = ModelBackend()
    user = fresh(user)
    return (
        backend.get_user_permissions(user),
        backend.get_group_permissions(user),
        backend.get_all_permissions(user),
    )


@pytest.mark.parametrize("role", list(roles.ROLES))
def test_each_role_has_the_permissions_model_backend_gives(make_user, role):
    user = make_user(role)
    ours = fresh(user)
    backend = Permissions()
    assert (
        backend.get_user_permissions(ours),
        backend.get_group_permissions(ours),
        backend.get_all_permissions(ours),
    ) == model_backend(user)
    assert roles.roles_of(ours) == [role]


def test_permissions_and_roles_cost_one_query_per_user_object(make_user):
    user = fresh(make_user(roles.COORDINATOR))
    with CaptureQueriesContext(connection) as captured:
        assert user.has_perm("enrollment.view_patient")
        assert not user.has_perm("randomization.replace_sequence")
        assert user.has_perms(("enrollment.view_screening", "dosing.add_infusion"))
        assert roles.roles_of(user) == [roles.COORDINATOR]
    assert len(captured) == 1


def test_a_permission_given_directly_and_a_group_without_permissions(make_user):
    user = make_user(roles.MONITOR)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="auth", codename="view_user")
    )
    empty = Group.objects.create(name="visitors")
    user.groups.add(empty)
    ours = fresh(user)
    assert Permissions().get_user_permissions(ours) == {"auth.view_user"}
    assert ours.has_perm("auth.view_user")
    assert ours.get_all_permissions() == model_backend(user)[2]
    assert roles.roles_of(ours) == [roles.MONITOR]  # only the trial's roles are roles
    assert sorted(group_names(fresh(user))) == sorted([roles.MONITOR, "visitors"])


def test_a_superuser_has_every_permission_and_an_inactive_user_none(make_user):
    boss = fresh(make_user(None, username="boss", is_superuser=True))
    assert boss.has_perm("randomization.replace_sequence")
    assert boss.get_all_permissions() == model_backend(boss)[2]
    gone = make_user(roles.COORDINATOR, username="gone")
    gone.is_active = False
    gone.save()
    gone = fresh(gone)
    assert not gone.has_perm("enrollment.view_patient")
    assert gone.get_all_permissions() == set()


def test_the_backend_logs_nobody_in(make_user):
    user = make_user(roles.COORDINATOR)
    assert Permissions().authenticate(None, username=user.username, password=PASSWORD) is None
