"""The procedural part of the wlink samples; the data is ``samples.toml``.

What a TOML table cannot say: a withdrawal needs the one-time email code the
vendor mails to the user, read from the sandbox's mailbox for each request.
"""

from __future__ import annotations

from typing import Any

import attrs
from brokerport import models as m
from brokerport.testing.samples import DataSamples

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
