"""Tables and versioned migrations.

Content columns (``*_enc``) hold AES-GCM ciphertext only; what stays in
plain text is what a database needs to find rows (ids, times, kinds, flags)
and never a patient's words, moods or ratings. The audit log records who
touched which record, never the content.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean, Column, DateTime, ForeignKey, Integer, LargeBinary, MetaData, String, Table, Text,
)

metadata = MetaData()

meta = Table(
    "attune_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

patients = Table(
    "patients", metadata,
    Column("id", String(36), primary_key=True),
    Column("code_hash", String(64), unique=True, nullable=False),  # HMAC of the personal code
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("data_enc", LargeBinary),  # name, preferences, memory, baselines
)

sessions = Table(
    "sessions", metadata,
    Column("id", String(36), primary_key=True),
    Column("patient_id", String(36), ForeignKey("patients.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("profile", String(64), nullable=False),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("state_enc", LargeBinary),  # protocol step, crisis mode, mood track, flag reason
)

turns = Table(
    "turns", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(36), ForeignKey("sessions.id"), nullable=False, index=True),
    Column("patient_id", String(36), ForeignKey("patients.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("role", String(16), nullable=False),  # patient | assistant
    Column("content_enc", LargeBinary, nullable=False),
    Column("meta_enc", LargeBinary),  # action, categories, sources, music, timings
)

mood_readings = Table(
    "mood_readings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", String(36), ForeignKey("patients.id"), nullable=False, index=True),
    Column("session_id", String(36), ForeignKey("sessions.id"), index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("source", String(32), nullable=False),  # text | fused | heart | voice ...
    Column("data_enc", LargeBinary, nullable=False),
)

ratings = Table(
    "ratings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("patient_id", String(36), ForeignKey("patients.id"), nullable=False, index=True),
    Column("session_id", String(36), ForeignKey("sessions.id"), index=True),
    Column("piece_id", String(36)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("phase", String(8), nullable=False),  # pre | post
    Column("data_enc", LargeBinary, nullable=False),  # SAM, SUDS, liking, note
)

pieces = Table(
    "pieces", metadata,
    Column("id", String(36), primary_key=True),
    Column("patient_id", String(36), ForeignKey("patients.id"), nullable=False, index=True),
    Column("session_id", String(36), ForeignKey("sessions.id"), index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("favourite", Boolean, nullable=False, default=False),
    Column("data_enc", LargeBinary, nullable=False),  # plan, file names, why-this-music
)

events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(36), ForeignKey("sessions.id"), nullable=False, index=True),
    Column("patient_id", String(36), ForeignKey("patients.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload_enc", LargeBinary),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),  # read | write | export | erase | login ...
    Column("record", String(32), nullable=False),  # table or view name
    Column("patient_id", String(36), index=True),
    Column("session_id", String(36)),
)

users = Table(
    "users", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(256), nullable=False),  # Argon2id
    Column("role", String(16), nullable=False),  # clinician | admin
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: Tables holding one patient's data, children first (erasure order).
PATIENT_TABLES = (events, turns, mood_readings, ratings, pieces, sessions, patients)

SCHEMA_VERSION = 1


def migrate(conn, current: int) -> int:
    """Bring the schema from ``current`` to ``SCHEMA_VERSION``; returns the new version.

    Version 0 is an empty database. Later versions append steps here
    (ALTER TABLE ...), each applied once inside the caller's transaction.
    """
    if current < 1:
        metadata.create_all(conn)
        current = 1
    return current
