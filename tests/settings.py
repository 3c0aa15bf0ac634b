"""Test settings: the real settings plus a test-only module with one concrete shared record."""

from mufakat.settings import *  # noqa: F403
from mufakat.settings import INSTALLED_APPS, MUFAKAT_MODULES

# Installed as a module, so its URLs and API router are mounted like any feature module's.
MUFAKAT_MODULES = [*MUFAKAT_MODULES, "tests.sharedapp"]
INSTALLED_APPS = [*INSTALLED_APPS, "tests.sharedapp"]

# Jobs run eagerly in the test's own thread and transaction; tests of the queue worker set
# MUFAKAT_JOBS_BACKEND = "default".
MUFAKAT_JOBS_BACKEND = "immediate"
