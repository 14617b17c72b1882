from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Actor:
    """Who caused a change: a user, or an integration/system named by ``label``.

    Every posting and every state change records both (SPEC section 7, "Audited").
    """

    user: AbstractBaseUser | None
    label: str

    @property
    def user_id(self):
        return self.user.pk if self.user is not None else None


def user_actor(user) -> Actor:
    return Actor(user=user, label=user.get_username())


def system_actor(name: str) -> Actor:
    return Actor(user=None, label=f"system:{name}")
