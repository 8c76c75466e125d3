"""Alembic migrations of Sinergi's schema (one revision per change, never edited after landing)."""
