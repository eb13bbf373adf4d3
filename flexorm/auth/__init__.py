"""Who is calling: credentials from the ``Authorization`` header, checked."""

from flexorm.auth.caller import Caller

__all__ = ["Caller"]
