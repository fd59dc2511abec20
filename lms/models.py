"""Every package's models imported in one place, so Alembic and tests see the whole schema."""

from lms.auth.models import (
    DevAuthorizationCode,
    DevCitizen,
    LocalAccount,
    UserSession,
)
from lms.db import Base
from lms.people.models import RoleGrant, User
from lms.units.models import Unit

metadata = Base.metadata

__all__ = ["DevAuthorizationCode", "DevCitizen", "LocalAccount", "RoleGrant", "Unit", "User",
           "UserSession", "metadata"]
