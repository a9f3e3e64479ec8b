"""The one exception type for expected failures."""

from __future__ import annotations


class FatalError(Exception):
    """An expected failure: bad input, a missing file, a refused request.

    The message follows `<what failed>, <on which value>; <what to do>`. The command line
    prints it as `error: <message>` without a traceback and exits with 1.
    """
