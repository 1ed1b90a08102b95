// Defaults the command line shows in its help and the install uses, in a module of their own so that
// printing the help loads nothing else.

/** micropython-lib's v2 index first (what mip reads), then PyPI's JSON API (what upip reads). */
export const DEFAULT_INDEXES = ["https://micropython.org/pi/v2", "https://pypi.org/pypi"];
export const DEFAULT_JOBS = 16;
