"""The procedural part of the wlink samples; the data is ``samples.toml``.

What a TOML table cannot say: a withdrawal needs the one-time email code the
vendor mails to the user, read from the sandbox's mailbox for each request; and
the ``[[calls]]`` samples read the sandbox's user, accounts and mailed codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import attrs
from brokerport import models as m
from brokerport.testing.samples import DataSamples

if TYPE_CHECKING:
    from .sandbox import WlinkSandbox

__all__ = ["WlinkSamples"]


class WlinkSamples(DataSamples):
    def withdrawal(self, account_id: str, n: int = 0) -> m.WithdrawalRequest:
        """The ``[withdrawal]`` table, with a fresh email code (what the user reads in the mail)."""
        request = super().withdrawal(account_id, n)
        box: Any = self.sandbox
        if box is None:
            return request
        code = box.issue_email_code("withdrawal")
        return attrs.evolve(request, extra={**request.extra, "email_code": code})

    # ``hook`` steps of the ``[[calls]]`` samples: what only the sandbox knows
    def user_id(self) -> str:
        return str(cast("WlinkSandbox", self.sandbox).user_id)

    def other_account(self) -> str:
        return str(cast("WlinkSandbox", self.sandbox).account_id + 1)

    def email_code(self, scene: str) -> str:
        return str(cast("WlinkSandbox", self.sandbox).issue_email_code(scene))
