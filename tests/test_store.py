"""Encrypted storage: round trips on SQLite and PostgreSQL, privacy, audit, bad files."""

import json
import stat

import pytest

from attune.common.errors import ConfigError, StorageError
from attune.agent.store import Store, load_or_create_key

SECRET = "My sister Hannah moved away and I feel very alone"


def _fill(store: Store, code: str = "patient-a") -> tuple[str, str]:
    pid = store.patient_for_code(code)
    sid = store.create_session(pid, "default", {"step": "explore"})
    store.append_turn(sid, pid, "patient", SECRET, {"action": "allow"})
    store.append_turn(sid, pid, "assistant", "It sounds lonely since Hannah moved.")
    store.add_mood(pid, sid, "text", {"valence": -0.6, "arousal": -0.2})
    store.add_rating(pid, sid, "pre", {"suds": 7, "sam_valence": 3})
    store.add_piece(pid, sid, {"plan": {"tempo": 66}, "why": "calming"})
    store.append_event(sid, pid, "Screened", {"action": "allow"})
    return pid, sid


def _round_trip(store: Store) -> None:
    pid, sid = _fill(store)
    turns = store.turns(sid, pid)
    assert [t["content"] for t in turns] == [SECRET, "It sounds lonely since Hannah moved."]
    assert turns[0]["meta"] == {"action": "allow"}
    assert store.session(sid, pid)["state"] == {"step": "explore"}
    assert store.moods(pid)[0]["valence"] == -0.6
    assert store.ratings(pid)[0]["suds"] == 7
    assert store.pieces(pid)[0]["plan"] == {"tempo": 66}
    assert store.patient_for_code("patient-a") == pid  # same code, same patient


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'attune.db'}", load_or_create_key(tmp_path / "key"))
    yield s
    s.close()


def test_sqlite_round_trip(store):
    _round_trip(store)
    assert store.schema_version == 1


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_round_trip(tmp_path):
    from tests.pg import postgres_server

    with postgres_server() as url:
        s = Store(url, load_or_create_key(tmp_path / "key"))
        try:
            _round_trip(s)
            pid = s.patient_for_code("patient-a")
            s.erase_patient(pid, "test")
            assert s.count("turns") == 0 and s.count("patients") == 0
        finally:
            s.close()


def test_database_file_holds_no_plaintext(tmp_path, store):
    _fill(store)
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("attune.db*"))
    for needle in ("Hannah", "alone", "calming", "suds", "valence"):
        assert needle.encode() not in raw, needle


def test_export_then_erase_leaves_nothing(tmp_path, store):
    pid, sid = _fill(store)
    other, other_sid = _fill(store, code="patient-b")
    exported = store.export_patient(pid, actor="clinician:test")
    text = json.dumps(exported, default=str)
    assert SECRET in text and exported["ratings"][0]["suds"] == 7
    assert other not in text  # nothing of another patient in the export
    counts = store.erase_patient(pid, actor="clinician:test")
    assert counts["turns"] == 2 and counts["patients"] == 1
    from sqlalchemy import func, select

    from attune.agent.store import schema

    with store.engine.connect() as conn:
        for table in schema.PATIENT_TABLES:
            col = table.c.id if table is schema.patients else table.c.patient_id
            left = conn.execute(select(func.count()).select_from(table).where(col == pid)).scalar()
            assert left == 0, f"{table.name} still holds rows of the erased patient"
    with pytest.raises(StorageError):
        store.turns(sid, pid)
    assert store.turns(other_sid, other)[0]["content"] == SECRET  # the other patient is untouched
    assert store.patient_for_code("patient-a", create=False) is None
    # the audit log keeps who did what (no content), ending with the erasure itself
    assert store.audit_log(pid)[0]["action"] == "erase"


def test_audit_records_reads_and_writes_without_content(store):
    pid, sid = _fill(store)
    store.turns(sid, pid, actor="clinician:dr-lee")
    log = store.audit_log(pid)
    assert any(e["actor"] == "clinician:dr-lee" and e["action"] == "read" and e["record"] == "turns"
               for e in log)
    assert any(e["action"] == "write" and e["record"] == "turns" for e in log)
    assert SECRET not in json.dumps(log, default=str)


def test_another_patients_session_is_refused(store):
    pid, sid = _fill(store, "patient-a")
    intruder = store.patient_for_code("patient-b")
    with pytest.raises(StorageError, match="does not exist for this patient"):
        store.turns(sid, intruder)
    with pytest.raises(StorageError):
        store.append_turn(sid, intruder, "patient", "hello")


def test_another_patients_piece_is_refused(store):
    pid, sid = _fill(store, "patient-a")
    piece = store.pieces(pid)[0]["id"]
    intruder = store.patient_for_code("patient-b")
    assert store.piece(pid, piece)["plan"] == {"tempo": 66}
    for call in (lambda: store.piece(intruder, piece), lambda: store.set_favourite(intruder, piece, True),
                 lambda: store.piece(pid, "no-such-piece")):
        with pytest.raises(StorageError, match="That piece does not exist for this patient."):
            call()
    assert store.pieces(pid)[0]["favourite"] is False
    store.set_favourite(pid, piece, True)
    assert store.piece(pid, piece)["favourite"] is True


def test_ciphertext_moved_between_patients_does_not_decrypt(store):
    from sqlalchemy import update

    from attune.agent.store import schema

    a, sid_a = _fill(store, "patient-a")
    b, sid_b = _fill(store, "patient-b")
    with store.engine.begin() as conn:
        blob = conn.execute(schema.turns.select().where(schema.turns.c.patient_id == a)).first().content_enc
        conn.execute(update(schema.turns).where(schema.turns.c.patient_id == b).values(content_enc=blob))
    with pytest.raises(StorageError, match="could not be decrypted"):
        store.turns(sid_b, b)


def test_key_file_is_private_and_reused(tmp_path):
    key_file = tmp_path / "k" / "attune.key"
    key = load_or_create_key(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_or_create_key(key_file) == key


def test_bad_key_text_is_named(tmp_path):
    with pytest.raises(ConfigError, match="ATTUNE_KEY"):
        load_or_create_key(tmp_path / "k", "not-a-key")


def test_wrong_key_is_refused(tmp_path, store):
    _fill(store)
    store.close()
    with pytest.raises(StorageError, match="key does not match"):
        Store(f"sqlite:///{tmp_path / 'attune.db'}", load_or_create_key(tmp_path / "other-key"))


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b"\x00\xff" * 4096],
                         ids=["text-junk", "binary-junk"])
def test_corrupt_database_is_refused_and_untouched(tmp_path, content):
    db = tmp_path / "attune.db"
    db.write_bytes(content)
    with pytest.raises(StorageError, match="Nothing was changed"):
        Store(f"sqlite:///{db}", load_or_create_key(tmp_path / "key"))
    assert db.read_bytes() == content
    assert not (tmp_path / "attune.db-wal").exists()


def test_damaged_sqlite_pages_are_refused(tmp_path, store):
    _fill(store)
    store.close()
    db = tmp_path / "attune.db"
    data = bytearray(db.read_bytes())
    data[4096:8192] = b"\xde\xad" * 2048  # wreck the second page, keep the header
    db.write_bytes(bytes(data))
    before = db.read_bytes()
    with pytest.raises(StorageError):
        Store(f"sqlite:///{db}", load_or_create_key(tmp_path / "key"))
    assert db.read_bytes() == before
