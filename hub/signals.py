"""Signals the CRM core offers to the apps above it.

`hub` may not import the channel apps (DESIGN §2), so seed_demo announces the
core it created and each app adds its own demo data in its `demo.py`.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent by `manage.py seed_demo` after the core demo data exists, with `core`: a
# hub.demo.DemoCore, and `stdout`: where to report progress.
demo_core_seeded = Signal()
