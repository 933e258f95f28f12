"""The one exception the lab raises for problems a user can fix: one sentence saying what is wrong and what to do."""


class LabError(Exception):
    """A user-facing failure. ``str(err)`` is a complete sentence; the CLI prints it and exits 1."""


class UsageError(LabError):
    """Bad input on the command line or in a setting; the CLI exits 2."""
