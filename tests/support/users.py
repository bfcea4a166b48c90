"""The suite's people: one password for all, and a user with a role."""

from __future__ import annotations

PASSWORD = "correct horse battery staple"


def make_user(username: str, role: str | None):
    from django.contrib.auth.models import (
        User,  # needs the app registry, ready once Django is set up
    )

    from bots.desk.roles import group

    user = User.objects.create_user(username=username, password=PASSWORD)
    if role:
        user.groups.add(group(role))
    return user
