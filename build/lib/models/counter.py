from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Counter(Model):
    """Named counters bumped inside the writing transaction.

    The row lock taken by the UPDATE makes concurrent writers queue, so event sequences follow
    commit order (lifecycle.md: a reader who has seen N never later finds a new event below N).
    """

    name = fields.CharField(max_length=64, primary_key=True)
    value = fields.BigIntField(default=0)

    class Meta:
        table = "counters"
