"""Django's admin, for users with the admin role only.

Its login page is Ballast's own (rate-limited) one, and an admin needs no is_staff flag nor
model permissions one by one: the role is the permission.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from bots.desk.roles import ADMIN, has_role


class BallastAdminSite(admin.AdminSite):
    site_header = "Ballast administration"
    site_title = "Ballast admin"

    def has_permission(self, request) -> bool:
        return request.user.is_active and has_role(request.user, ADMIN)

    def login(self, request, extra_context=None):
        # Logged in without the role: say so rather than loop through the login page.
        if request.user.is_authenticated:
            raise PermissionDenied("Django's admin needs the admin role")
        target = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('login')}?{urlencode({'next': target})}")


class AdminRoleBackend(BaseBackend):
    """Grants every model permission to the admin role, and nothing to anyone else."""

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return self._is_admin(user_obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return self._is_admin(user_obj)

    @staticmethod
    def _is_admin(user_obj) -> bool:
        # An admin page asks for dozens of permissions: look the role up once per request's user.
        if not hasattr(user_obj, "_ballast_is_admin"):
            user_obj._ballast_is_admin = user_obj.is_active and has_role(user_obj, ADMIN)
        return user_obj._ballast_is_admin

