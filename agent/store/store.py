"""The patient data store: SQLAlchemy over SQLite (default) or PostgreSQL.

Everything a patient says or reports is encrypted before it reaches the
database (``crypto.Cipher``) and bound to that patient. Every read and write
of patient data leaves an audit row (who, what, which record; never the
content). A patient's data can be exported as JSON and erased.

SQLite runs in WAL mode with ``synchronous=FULL`` so a killed process loses
no committed turn. A file that is not a readable database is refused with a
clear message and left untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import uuid
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError, SQLAlchemyError

from attune.common.errors import BackendUnreachable, StorageError
from . import schema as s
from .crypto import Cipher

__all__ = ["Store", "utcnow"]

_KEY_CHECK = "attune-key-check"
# the same words whether a piece is missing or another patient's
_NO_PIECE = "That piece does not exist for this patient."


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


_SCHEMA_LOCK = 0x61747475_6E650001  # PostgreSQL advisory lock key held while the schema is created or migrated


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url[len("sqlite:///"):])
    return None


class Store:
    """One database, one key. Thread-safe through SQLAlchemy's pool."""

    def __init__(self, url: str, key: bytes):
        self.url = url
        self._cipher = Cipher(key)
        self._code_key = hashlib.sha256(b"attune-code:" + key).digest()
        self.engine = self._connect(url)
        self._init_schema()
        self._held = threading.local()  # session ids this thread holds the lock of, with a depth
        self._memory_locks: dict[str, threading.RLock] = {}  # an in-memory database: one process only
        self._memory_locks_guard = threading.Lock()

    # Opening -------------------------------------------------------------
    @staticmethod
    def _connect(url: str) -> Engine:
        path = _sqlite_path(url)
        if path is not None:
            if path.exists() and path.stat().st_size > 0:
                with open(path, "rb") as fh:
                    if fh.read(16) != b"SQLite format 3\x00":
                        raise StorageError(
                            f"The database file {path} is not a SQLite database (corrupt or "
                            "overwritten). Nothing was changed: move it aside or restore a backup."
                        )
            path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):  # noqa: ANN001 - DB-API connection
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            return engine
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return create_engine(url, pool_pre_ping=True)

    def _init_schema(self) -> None:
        where = _sqlite_path(self.url) or self.url.split("@")[-1]
        try:
            with self.engine.begin() as conn:
                if self.engine.dialect.name == "postgresql":
                    # servers starting together on a new database: one creates the tables, the others wait
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
                if self.engine.dialect.name == "sqlite":
                    ok = conn.execute(text("PRAGMA quick_check")).scalar()
                    if ok != "ok":
                        raise StorageError(f"The database {where} failed its integrity check ({ok}). "
                                           "Nothing was changed: restore a backup.")
                s.meta.create(conn, checkfirst=True)
                rows = dict(conn.execute(select(s.meta.c.key, s.meta.c.value)).all())
                current = int(rows.get("schema_version", 0))
                if current > s.SCHEMA_VERSION:
                    raise StorageError(f"The database {where} was written by a newer Attune "
                                       f"(schema {current}); upgrade Attune to open it.")
                new = s.migrate(conn, current)
                if new != current:
                    self._set_meta(conn, "schema_version", str(new))
                check = rows.get("key_check")
                if check is None:
                    blob = self._cipher.encrypt(_KEY_CHECK, "meta").hex()
                    self._set_meta(conn, "key_check", blob)
                else:
                    try:
                        self._cipher.decrypt(bytes.fromhex(check), "meta")
                    except StorageError:
                        raise StorageError(
                            f"The encryption key does not match the database {where}: use the key "
                            "file it was created with (ATTUNE_KEY_FILE or ATTUNE_KEY)."
                        ) from None
        except StorageError:
            raise
        except OperationalError as exc:
            if self.engine.dialect.name == "sqlite":
                raise StorageError(f"The database {where} cannot be opened: {exc.orig}. "
                                   "Nothing was changed.") from None
            raise BackendUnreachable(f"The database server at {where} did not answer: {exc.orig}") from None
        except DatabaseError as exc:
            raise StorageError(f"The database {where} is unreadable ({exc.orig}). Nothing was "
                               "changed: move it aside or restore a backup.") from None

    @staticmethod
    def _set_meta(conn, key: str, value: str) -> None:
        conn.execute(delete(s.meta).where(s.meta.c.key == key))
        conn.execute(insert(s.meta).values(key=key, value=value))

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(s.meta.c.value).where(s.meta.c.key == "schema_version")).scalar())

    def close(self) -> None:
        self.engine.dispose()

    # Helpers ---------------------------------------------------------------
    def _enc(self, value: Any, table: str, patient_id: str) -> bytes:
        return self._cipher.encrypt_json(value, f"{table}:{patient_id}")

    def _dec(self, blob: bytes | None, table: str, patient_id: str) -> Any:
        return self._cipher.decrypt_json(blob, f"{table}:{patient_id}")

    def _audit(self, conn, actor: str, action: str, record: str,
               patient_id: str | None = None, session_id: str | None = None) -> None:
        conn.execute(insert(s.audit).values(at=utcnow(), actor=actor[:64], action=action,
                                            record=record, patient_id=patient_id,
                                            session_id=session_id))

    def _begin(self):
        shared = getattr(self._held, "conn", None)
        if shared is not None:  # inside transaction(): every write joins the one open transaction
            return nullcontext(shared)
        try:
            return self.engine.begin()
        except SQLAlchemyError as exc:  # pragma: no cover - server went away mid-run
            raise StorageError(f"The database cannot be reached: {exc}") from None

    @contextmanager
    def transaction(self):
        """Every store call inside the block, on this thread, in one database transaction: all or nothing.

        A turn commits its writes this way (``TurnWrites``). Nested blocks join the outer one.
        """
        if getattr(self._held, "conn", None) is not None:
            yield
            return
        with self._begin() as conn:
            self._held.conn = conn
            try:
                yield
            finally:
                self._held.conn = None

    # Patients --------------------------------------------------------------
    def code_hash(self, code: str) -> str:
        return hmac.new(self._code_key, code.strip().encode(), hashlib.sha256).hexdigest()

    def patient_for_code(self, code: str, actor: str = "patient", create: bool = True) -> str | None:
        """The patient id for a personal code (created on first use when ``create``)."""
        digest = self.code_hash(code)
        try:
            with self._begin() as conn:
                pid = conn.execute(select(s.patients.c.id).where(s.patients.c.code_hash == digest)).scalar()
                if pid is None and create:
                    pid = str(uuid.uuid4())
                    conn.execute(insert(s.patients).values(id=pid, code_hash=digest, created_at=utcnow(),
                                                           data_enc=self._enc({}, "patients", pid)))
                    self._audit(conn, actor, "write", "patients", pid)
                return pid
        except IntegrityError:  # two first visits with the same code at once: the other one created it
            with self._begin() as conn:
                return conn.execute(select(s.patients.c.id).where(s.patients.c.code_hash == digest)).scalar()

    def patient_exists(self, patient_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(s.patients.c.id).where(s.patients.c.id == patient_id)).first() is not None

    def patient_data(self, patient_id: str, actor: str = "system") -> dict:
        with self._begin() as conn:
            blob = conn.execute(select(s.patients.c.data_enc).where(s.patients.c.id == patient_id)).scalar()
            self._audit(conn, actor, "read", "patients", patient_id)
        return self._dec(blob, "patients", patient_id) or {}

    def set_patient_data(self, patient_id: str, data: dict, actor: str = "system") -> None:
        with self._begin() as conn:
            conn.execute(update(s.patients).where(s.patients.c.id == patient_id)
                         .values(data_enc=self._enc(data, "patients", patient_id)))
            self._audit(conn, actor, "write", "patients", patient_id)

    def list_patients(self, actor: str) -> list[dict]:
        with self._begin() as conn:
            rows = conn.execute(select(s.patients.c.id, s.patients.c.created_at)
                                .order_by(s.patients.c.created_at)).all()
            self._audit(conn, actor, "read", "patients")
        return [{"id": r.id, "created_at": r.created_at} for r in rows]

    # Sessions --------------------------------------------------------------
    def create_session(self, patient_id: str, profile: str, state: dict | None = None,
                       actor: str = "patient") -> str:
        sid = str(uuid.uuid4())
        now = utcnow()
        with self._begin() as conn:
            conn.execute(insert(s.sessions).values(
                id=sid, patient_id=patient_id, created_at=now, updated_at=now, profile=profile,
                flagged=False, state_enc=self._enc(state or {}, "sessions", patient_id)))
            self._audit(conn, actor, "write", "sessions", patient_id, sid)
        return sid

    @contextmanager
    def session_lock(self, session_id: str):
        """Hold a session for one read-modify-write of its state, across threads and processes.

        Every writer of a session's state takes it (a turn for its whole length, a rating, a reading,
        the piece now playing), so two server processes on one database cannot lose each other's
        update. PostgreSQL: an advisory lock keyed by the session; SQLite: a lock file beside the
        database (``flock``). Re-entrant within a thread; released when the block ends, whatever happens.
        """
        held: dict[str, int] = self._held.__dict__.setdefault("depth", {})
        if held.get(session_id):
            held[session_id] += 1
            try:
                yield
            finally:
                held[session_id] -= 1
            return
        release = self._acquire(session_id)
        held[session_id] = 1
        try:
            yield
        finally:
            held.pop(session_id, None)
            release()

    def _acquire(self, session_id: str):
        digest = hashlib.sha256(f"attune-session:{session_id}".encode()).digest()
        if self.engine.dialect.name == "postgresql":
            key = int.from_bytes(digest[:8], "big", signed=True)
            try:
                conn = self.engine.connect()
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            except SQLAlchemyError as exc:
                raise StorageError(f"The database cannot be reached: {exc}") from None

            def release() -> None:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                finally:
                    conn.close()
            return release
        path = _sqlite_path(self.url)
        if path is None:  # in memory: only this process can see it
            with self._memory_locks_guard:
                lock = self._memory_locks.setdefault(session_id, threading.RLock())
            lock.acquire()
            return lock.release
        import fcntl

        folder = path.parent / ".locks"
        folder.mkdir(parents=True, exist_ok=True)
        fh = open(folder / f"{digest.hex()[:32]}.lock", "a+b")  # noqa: SIM115 - closed by release()
        fcntl.flock(fh, fcntl.LOCK_EX)

        def release() -> None:
            try:
                fcntl.flock(fh, fcntl.LOCK_UN)
            finally:
                fh.close()
        return release

    def session_owner(self, session_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(s.sessions.c.patient_id).where(s.sessions.c.id == session_id)).scalar()

    def _check_owner(self, conn, session_id: str, patient_id: str):
        row = conn.execute(select(s.sessions).where(s.sessions.c.id == session_id)).first()
        if row is None or row.patient_id != patient_id:
            # the same message whether the session is missing or someone else's
            raise StorageError("That session does not exist for this patient.")
        return row

    def session(self, session_id: str, patient_id: str, actor: str = "patient") -> dict:
        """A session's row with its decrypted state; refuses another patient's session."""
        with self._begin() as conn:
            row = self._check_owner(conn, session_id, patient_id)
            self._audit(conn, actor, "read", "sessions", patient_id, session_id)
        state = self._dec(row.state_enc, "sessions", patient_id) or {}
        return {"id": row.id, "patient_id": row.patient_id, "profile": row.profile,
                "flagged": row.flagged, "created_at": row.created_at, "updated_at": row.updated_at,
                "state": state, "revision": state.get("revision", 0)}

    def save_session_state(self, session_id: str, patient_id: str, state: dict,
                           flagged: bool | None = None, actor: str = "patient",
                           revision: int | None = None) -> None:
        """Replace a session's state; each save raises its ``revision`` by one.

        With ``revision`` (the one the state was read at, ``session()["revision"]``) the save is
        refused when anyone saved in between, rather than overwriting their change."""
        with self._begin() as conn:
            row = self._check_owner(conn, session_id, patient_id)
            current = (self._dec(row.state_enc, "sessions", patient_id) or {}).get("revision", 0)
            if revision is not None and current != revision:
                raise StorageError("This session was changed by another request while this one ran; "
                                   "nothing was overwritten. Please send the message again.")
            values: dict[str, Any] = {"state_enc": self._enc({**state, "revision": current + 1}, "sessions",
                                                             patient_id), "updated_at": utcnow()}
            if flagged is not None:
                values["flagged"] = flagged
            conn.execute(update(s.sessions).where(s.sessions.c.id == session_id).values(**values))
            self._audit(conn, actor, "write", "sessions", patient_id, session_id)

    def list_sessions(self, actor: str, patient_id: str | None = None) -> list[dict]:
        """Sessions, flagged first, newest first (for the clinician console)."""
        q = select(s.sessions.c.id, s.sessions.c.patient_id, s.sessions.c.profile,
                   s.sessions.c.flagged, s.sessions.c.created_at, s.sessions.c.updated_at,
                   s.sessions.c.state_enc)
        if patient_id:
            q = q.where(s.sessions.c.patient_id == patient_id)
        q = q.order_by(s.sessions.c.flagged.desc(), s.sessions.c.updated_at.desc())
        with self._begin() as conn:
            rows = conn.execute(q).all()
            self._audit(conn, actor, "read", "sessions", patient_id)
        out = []
        for r in rows:
            state = self._dec(r.state_enc, "sessions", r.patient_id) or {}
            out.append({"id": r.id, "patient_id": r.patient_id, "profile": r.profile,
                        "flagged": r.flagged, "flag_reason": state.get("flag_reason"),
                        "flag_corrected": state.get("flag_corrected"),
                        "created_at": r.created_at, "updated_at": r.updated_at})
        return out

    # Turns and events --------------------------------------------------------
    def append_turn(self, session_id: str, patient_id: str, role: str, content: str,
                    meta: dict | None = None, actor: str = "patient") -> int:
        with self._begin() as conn:
            self._check_owner(conn, session_id, patient_id)
            result = conn.execute(insert(s.turns).values(
                session_id=session_id, patient_id=patient_id, created_at=utcnow(), role=role,
                content_enc=self._enc(content, "turns", patient_id),
                meta_enc=self._enc(meta or {}, "turns", patient_id)))
            conn.execute(update(s.sessions).where(s.sessions.c.id == session_id).values(updated_at=utcnow()))
            self._audit(conn, actor, "write", "turns", patient_id, session_id)
            return int(result.inserted_primary_key[0])

    def turns(self, session_id: str, patient_id: str, actor: str = "patient") -> list[dict]:
        with self._begin() as conn:
            self._check_owner(conn, session_id, patient_id)
            rows = conn.execute(select(s.turns).where(s.turns.c.session_id == session_id)
                                .order_by(s.turns.c.id)).all()
            self._audit(conn, actor, "read", "turns", patient_id, session_id)
        return [{"id": r.id, "role": r.role, "created_at": r.created_at,
                 "content": self._dec(r.content_enc, "turns", patient_id),
                 "meta": self._dec(r.meta_enc, "turns", patient_id) or {}} for r in rows]

    def append_event(self, session_id: str, patient_id: str, kind: str, payload: Any,
                     actor: str = "system") -> None:
        with self._begin() as conn:
            conn.execute(insert(s.events).values(
                session_id=session_id, patient_id=patient_id, created_at=utcnow(), kind=kind[:32],
                payload_enc=self._enc(payload, "events", patient_id)))
            self._audit(conn, actor, "write", "events", patient_id, session_id)

    def events(self, session_id: str, patient_id: str, actor: str = "system") -> list[dict]:
        with self._begin() as conn:
            self._check_owner(conn, session_id, patient_id)
            rows = conn.execute(select(s.events).where(s.events.c.session_id == session_id)
                                .order_by(s.events.c.id)).all()
            self._audit(conn, actor, "read", "events", patient_id, session_id)
        return [{"kind": r.kind, "created_at": r.created_at,
                 "payload": self._dec(r.payload_enc, "events", patient_id)} for r in rows]

    # Moods, ratings, pieces ------------------------------------------------
    def add_mood(self, patient_id: str, session_id: str | None, source: str, data: dict,
                 actor: str = "system") -> None:
        with self._begin() as conn:
            conn.execute(insert(s.mood_readings).values(
                patient_id=patient_id, session_id=session_id, created_at=utcnow(), source=source,
                data_enc=self._enc(data, "mood_readings", patient_id)))
            self._audit(conn, actor, "write", "mood_readings", patient_id, session_id)

    def moods(self, patient_id: str, session_id: str | None = None, actor: str = "system") -> list[dict]:
        q = select(s.mood_readings).where(s.mood_readings.c.patient_id == patient_id)
        if session_id:
            q = q.where(s.mood_readings.c.session_id == session_id)
        with self._begin() as conn:
            rows = conn.execute(q.order_by(s.mood_readings.c.id)).all()
            self._audit(conn, actor, "read", "mood_readings", patient_id, session_id)
        return [{"session_id": r.session_id, "created_at": r.created_at, "source": r.source,
                 **self._dec(r.data_enc, "mood_readings", patient_id)} for r in rows]

    def add_rating(self, patient_id: str, session_id: str | None, phase: str, data: dict,
                   piece_id: str | None = None, actor: str = "patient") -> None:
        with self._begin() as conn:
            conn.execute(insert(s.ratings).values(
                patient_id=patient_id, session_id=session_id, piece_id=piece_id, created_at=utcnow(),
                phase=phase, data_enc=self._enc(data, "ratings", patient_id)))
            self._audit(conn, actor, "write", "ratings", patient_id, session_id)

    def ratings(self, patient_id: str, session_id: str | None = None, actor: str = "system") -> list[dict]:
        q = select(s.ratings).where(s.ratings.c.patient_id == patient_id)
        if session_id:
            q = q.where(s.ratings.c.session_id == session_id)
        with self._begin() as conn:
            rows = conn.execute(q.order_by(s.ratings.c.id)).all()
            self._audit(conn, actor, "read", "ratings", patient_id, session_id)
        return [{"session_id": r.session_id, "piece_id": r.piece_id, "phase": r.phase,
                 "created_at": r.created_at, **self._dec(r.data_enc, "ratings", patient_id)}
                for r in rows]

    def add_piece(self, patient_id: str, session_id: str | None, data: dict, piece_id: str | None = None,
                  actor: str = "system") -> str:
        pid = piece_id or str(uuid.uuid4())
        with self._begin() as conn:
            conn.execute(insert(s.pieces).values(
                id=pid, patient_id=patient_id, session_id=session_id, created_at=utcnow(),
                favourite=False, data_enc=self._enc(data, "pieces", patient_id)))
            self._audit(conn, actor, "write", "pieces", patient_id, session_id)
        return pid

    def pieces(self, patient_id: str, actor: str = "patient") -> list[dict]:
        with self._begin() as conn:
            rows = conn.execute(select(s.pieces).where(s.pieces.c.patient_id == patient_id)
                                .order_by(s.pieces.c.created_at)).all()
            self._audit(conn, actor, "read", "pieces", patient_id)
        return [{"id": r.id, "session_id": r.session_id, "created_at": r.created_at,
                 "favourite": r.favourite, **self._dec(r.data_enc, "pieces", patient_id)} for r in rows]

    def piece(self, patient_id: str, piece_id: str, actor: str = "patient") -> dict:
        """One piece of this patient; another patient's piece is refused like a missing one."""
        with self._begin() as conn:
            row = conn.execute(select(s.pieces).where(s.pieces.c.id == str(piece_id),
                                                      s.pieces.c.patient_id == patient_id)).first()
            if row is None:
                raise StorageError(_NO_PIECE)
            self._audit(conn, actor, "read", "pieces", patient_id)
        return {"id": row.id, "session_id": row.session_id, "created_at": row.created_at,
                "favourite": row.favourite, **self._dec(row.data_enc, "pieces", patient_id)}

    def set_favourite(self, patient_id: str, piece_id: str, favourite: bool, actor: str = "patient") -> None:
        with self._begin() as conn:
            done = conn.execute(update(s.pieces).where(s.pieces.c.id == str(piece_id),
                                                       s.pieces.c.patient_id == patient_id)
                                .values(favourite=bool(favourite))).rowcount
            if not done:
                raise StorageError(_NO_PIECE)
            self._audit(conn, actor, "write", "pieces", patient_id)

    # Export and erasure ------------------------------------------------------
    def export_patient(self, patient_id: str, actor: str) -> dict:
        """All of one patient's data, decrypted, as JSON-ready data."""
        if not self.patient_exists(patient_id):
            raise StorageError("No such patient.")
        sessions_out = []
        for sess in self.list_sessions(actor, patient_id):
            full = self.session(sess["id"], patient_id, actor)
            sessions_out.append({**{k: v for k, v in full.items() if k != "patient_id"},
                                 "turns": self.turns(sess["id"], patient_id, actor),
                                 "events": self.events(sess["id"], patient_id, actor)})
        data = {
            "patient_id": patient_id,
            "exported_at": utcnow(),
            "profile_data": self.patient_data(patient_id, actor),
            "sessions": sessions_out,
            "moods": self.moods(patient_id, actor=actor),
            "ratings": self.ratings(patient_id, actor=actor),
            "pieces": self.pieces(patient_id, actor=actor),
        }
        with self._begin() as conn:
            self._audit(conn, actor, "export", "patients", patient_id)
        return data

    def erase_patient(self, patient_id: str, actor: str) -> dict[str, int]:
        """Delete every row of one patient; the audit log keeps only the erasure."""
        counts: dict[str, int] = {}
        with self._begin() as conn:
            for table in s.PATIENT_TABLES:
                col = table.c.id if table is s.patients else table.c.patient_id
                counts[table.name] = conn.execute(delete(table).where(col == patient_id)).rowcount
            self._audit(conn, actor, "erase", "patients", patient_id)
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:  # reclaim freed pages so no ciphertext lingers
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
                conn.exec_driver_sql("VACUUM")
        return counts

    # Audit -------------------------------------------------------------------
    def audit_log(self, patient_id: str | None = None, limit: int = 1000) -> list[dict]:
        q = select(s.audit).order_by(s.audit.c.id.desc()).limit(limit)
        if patient_id:
            q = q.where(s.audit.c.patient_id == patient_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q).all()]

    def count(self, table_name: str) -> int:
        table = s.metadata.tables[table_name]
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar())

    # Clinician accounts ------------------------------------------------------
    def upsert_user(self, username: str, password_hash: str, role: str) -> None:
        with self._begin() as conn:
            conn.execute(delete(s.users).where(s.users.c.username == username))
            conn.execute(insert(s.users).values(username=username, password_hash=password_hash,
                                                role=role, created_at=utcnow()))
            self._audit(conn, "admin", "write", "users")

    def list_users(self) -> list[dict]:
        """Clinician accounts without their password hashes."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.users.c.username, s.users.c.role, s.users.c.created_at)
                                .order_by(s.users.c.username)).all()
        return [dict(r._mapping) for r in rows]

    def user(self, username: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(s.users).where(s.users.c.username == username)).first()
        return dict(row._mapping) if row else None

