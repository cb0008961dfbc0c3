"""Moved: the sandbox toolkit is :mod:`brokerport.sandbox` (runtime, not tests).

This module re-exports it for plugins written against the old location.
"""

from ..sandbox import *  # noqa: F403
from ..sandbox import __all__ as __all__
