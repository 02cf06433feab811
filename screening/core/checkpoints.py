"""Signed checkpoints of the audit chain, kept outside the database.

The hash chain (`screening.core.audit`) shows that no event was changed without recomputing
every later hash; someone who administers the database can do exactly that. A checkpoint is a
statement — the chain's length (`seq`), the hash of its last event (`head`), the time, its own
number and the digest of the checkpoint before it — signed with an Ed25519 key that is not in the
database, stored in `AuditCheckpoint` **and** appended to sinks the database's administrator
does not hold: a JSON-lines file (`AUDIT_CHECKPOINT_FILE`, one checkpoint a line, opened for
appending only) and, when `AUDIT_TSA_URL` is set, an RFC 3161 timestamp authority, whose signed
token travels with the checkpoint. Verification (`audit_verify`) trusts the file and the public
keys: a rewritten, shortened or emptied chain no longer matches what was signed.

Checkpoints are written by the worker (`screening.core.tasks`: every
`AUDIT_CHECKPOINT_INTERVAL`, and after every `AUDIT_CHECKPOINT_EVERY_EVENTS` events) and on
demand (`manage.py audit_checkpoint`). Keys come from `AUDIT_SIGNING_KEY` (PEM text) or
`AUDIT_SIGNING_KEY_FILE`; `manage.py audit_keygen` makes them. Old public keys stay in
`AUDIT_PUBLIC_KEYS` (files or directories of PEM files) so that checkpoints signed before a
rotation still verify.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import fcntl
import hashlib
import json
import logging
import os
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from screening.core.models import GENESIS_HASH, AuditChainHead, AuditCheckpoint

logger = logging.getLogger(__name__)

#: The version of the signed statement's layout.
STATEMENT_VERSION = 1
#: Writers of checkpoints take turns on this PostgreSQL advisory lock (an arbitrary constant).
CHECKPOINT_LOCK = 0x5C7EE1_A0D1
#: How far a timestamp authority's time may be from the checkpoint's own.
TSA_TOLERANCE = datetime.timedelta(minutes=10)
STATEMENT_FIELDS = ("v", "number", "seq", "head", "at", "key", "prev")


class CheckpointError(Exception):
    """A checkpoint could not be written: no key, an unreadable key, a sink that is ahead."""


# --- the signed statement ----------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """What a checkpoint signs. `at` is UTC ISO 8601 with microseconds; `prev` is the previous
    statement's `digest()` (the genesis hash for checkpoint 1)."""

    number: int
    seq: int
    head: str
    at: str
    key: str
    prev: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "v": STATEMENT_VERSION,
            "number": self.number,
            "seq": self.seq,
            "head": self.head,
            "at": self.at,
            "key": self.key,
            "prev": self.prev,
        }

    def canonical(self) -> bytes:
        """The bytes that are signed and timestamped: JSON, sorted keys, no spaces."""
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":")).encode()

    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    @property
    def time(self) -> datetime.datetime:
        return datetime.datetime.fromisoformat(self.at)


def statement_of(checkpoint: AuditCheckpoint) -> Statement:
    return Statement(
        number=checkpoint.number,
        seq=checkpoint.seq,
        head=checkpoint.head_hash,
        at=_iso(checkpoint.created_at),
        key=checkpoint.key_id,
        prev=checkpoint.prev_digest,
    )


def checkpoint_line(checkpoint: AuditCheckpoint) -> str:
    """The checkpoint as one line of the checkpoint file (no newline)."""
    line = {**statement_of(checkpoint).as_dict(), "sig": checkpoint.signature}
    if checkpoint.timestamp_token:
        line["tsr"] = checkpoint.timestamp_token
    return json.dumps(line, sort_keys=True, separators=(",", ":"))


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


# --- keys --------------------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name for a public key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signing_key() -> Ed25519PrivateKey | None:
    """The configured signing key (`AUDIT_SIGNING_KEY`, else `AUDIT_SIGNING_KEY_FILE`), or None
    when neither is set. Raises CheckpointError for a key that is set but unusable."""
    text = getattr(settings, "AUDIT_SIGNING_KEY", "")
    path = getattr(settings, "AUDIT_SIGNING_KEY_FILE", "")
    if text:
        return _private_key(text.replace("\\n", "\n").encode(), "AUDIT_SIGNING_KEY")
    if not path:
        return None
    return load_private_key(path)


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CheckpointError(
            f"the audit signing key file {path} does not exist: create it with "
            "`manage.py audit_keygen`"
        ) from None
    except OSError as exc:
        raise CheckpointError(f"the audit signing key file {path} cannot be read: {exc}") from None
    return _private_key(data, str(path))


def checkpoints_configured() -> bool:
    """Whether a signing key is configured (it may still be missing or unreadable)."""
    return bool(
        getattr(settings, "AUDIT_SIGNING_KEY", "")
        or getattr(settings, "AUDIT_SIGNING_KEY_FILE", "")
    )


def _private_key(data: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{where} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{where} is not an Ed25519 key")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    data = Path(path).read_bytes()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise CheckpointError(f"{path} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path} is not an Ed25519 public key")
    return key


def public_keys(paths: Iterable[str | Path] | None = None) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id: from `paths` (files, or directories whose `*.pem` files are
    keys) when given; otherwise from `AUDIT_PUBLIC_KEYS` plus the signing key's own."""
    keys: dict[str, Ed25519PublicKey] = {}
    explicit = paths is not None
    entries = list(paths) if paths is not None else getattr(settings, "AUDIT_PUBLIC_KEYS", [])
    for entry in entries:
        location = Path(entry)
        if location.is_dir():
            files = sorted(location.glob("*.pem"))
        elif location.exists() or explicit:
            files = [location]
        else:
            continue
        for file in files:
            key = load_public_key(file)
            keys[key_id(key)] = key
    if not explicit:
        with contextlib.suppress(CheckpointError):
            private = signing_key()
            if private is not None:
                keys[key_id(private.public_key())] = private.public_key()
    return keys


def generate_key_pair() -> tuple[bytes, bytes, str]:
    """A new Ed25519 key pair as PEM (private PKCS#8, public SubjectPublicKeyInfo) and its id."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem, key_id(private.public_key())


def signature_valid(statement: Statement, signature: str, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), statement.canonical())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


# --- writing -------------------------------------------------------------------------------------


def audit_checkpoint(*, only_if_changed: bool = False) -> AuditCheckpoint | None:
    """Sign the chain's current length and head, store the checkpoint and append it to the
    outside sinks; return it.

    With `only_if_changed`, nothing is written when the chain has not grown since the last
    checkpoint (the periodic task's case) and None is returned. The chain head is read, never
    locked: writers of events do not wait for a checkpoint. Call it outside any transaction
    (the worker and the command do): the sinks get it once it has committed. Raises
    CheckpointError when no signing key is configured or it cannot be read.
    """
    key = signing_key()
    if key is None:
        raise CheckpointError(
            "no audit signing key is configured: set AUDIT_SIGNING_KEY_FILE (or AUDIT_SIGNING_KEY)"
            " and create the key with `manage.py audit_keygen`"
        )
    for attempt in range(3):
        try:
            checkpoint = _write(key, only_if_changed=only_if_changed)
            break
        except IntegrityError:  # SQLite: another writer took the number first
            if attempt == 2:
                raise
    publish_checkpoints()
    return checkpoint


def _write(key: Ed25519PrivateKey, *, only_if_changed: bool) -> AuditCheckpoint | None:
    # Durable: the checkpoint is published to the sinks once this commits, so it must not sit
    # inside a caller's transaction that could still roll it back.
    with transaction.atomic(durable=True):
        lock_checkpoints()
        last = AuditCheckpoint.objects.order_by("-number").first()
        head = (
            AuditChainHead.objects.filter(pk=AuditChainHead.SINGLETON_ID)
            .values_list("last_seq", "last_hash")
            .first()
        ) or (0, GENESIS_HASH)
        if only_if_changed and last is not None and (last.seq, last.head_hash) == head:
            return None
        created_at = timezone.now()
        statement = Statement(
            number=1 if last is None else last.number + 1,
            seq=head[0],
            head=head[1],
            at=_iso(created_at),
            key=key_id(key.public_key()),
            prev=GENESIS_HASH if last is None else statement_of(last).digest(),
        )
        signature = base64.b64encode(key.sign(statement.canonical())).decode()
        return AuditCheckpoint.objects.create(
            number=statement.number,
            seq=statement.seq,
            head_hash=statement.head,
            created_at=created_at,
            key_id=statement.key,
            prev_digest=statement.prev,
            signature=signature,
            timestamp_token=timestamp_token(statement.canonical()),
        )


def lock_checkpoints() -> None:
    """Inside a transaction: make other checkpoint writers wait until it ends (PostgreSQL;
    SQLite writers are serialised by the unique checkpoint number instead)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHECKPOINT_LOCK])


def publish_checkpoints() -> int:
    """Append to the checkpoint file every stored checkpoint it does not hold yet, in order;
    return how many. A checkpoint is stored first and published after its transaction
    commits, so a sink that was unreachable catches up on the next run."""
    path = getattr(settings, "AUDIT_CHECKPOINT_FILE", "")
    if not path:
        return 0
    sink = CheckpointFile(Path(path))
    with sink.locked() as handle:
        last = sink.last_number(handle)
        newest = AuditCheckpoint.objects.order_by("-number").values_list("number", flat=True)
        stored = newest.first() or 0
        if last > stored:
            raise CheckpointError(
                f"the checkpoint file {path} ends at checkpoint #{last} but the database's "
                f"last is #{stored}: the database lost checkpoints (restored from a backup, or "
                "tampered with); run `manage.py verify_audit`"
            )
        lines = [
            checkpoint_line(checkpoint)
            for checkpoint in AuditCheckpoint.objects.filter(number__gt=last).order_by("number")
        ]
        sink.append(handle, lines)
    return len(lines)


class CheckpointFile:
    """The append-only JSON-lines sink. Writers take turns with an exclusive `flock`, write
    whole lines with O_APPEND and fsync before letting go. On Linux, `chattr +a` on the file
    makes the kernel refuse anything but appending, even to its owner (see the README)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def locked(self) -> Iterator[IO[bytes]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def last_number(self, handle: IO[bytes]) -> int:
        """The number of the file's last checkpoint (0 when it has none)."""
        size = handle.seek(0, os.SEEK_END)
        window = 1 << 16
        while True:
            handle.seek(max(0, size - window))
            lines = [line for line in handle.read().splitlines() if line.strip()]
            if not lines:
                return 0
            if len(lines) > 1 or window >= size:
                break
            window *= 4
        try:
            number = json.loads(lines[-1])["number"]
        except (ValueError, KeyError, TypeError):
            raise CheckpointError(
                f"the last line of {self.path} is not a checkpoint: the file was edited; run "
                "`manage.py verify_audit` and repair it by hand before checkpoints resume"
            ) from None
        if not isinstance(number, int):
            raise CheckpointError(f"the last line of {self.path} has no checkpoint number")
        return number

    def append(self, handle: IO[bytes], lines: list[str]) -> None:
        if not lines:
            return
        handle.seek(0, os.SEEK_END)
        handle.write("".join(line + "\n" for line in lines).encode())
        handle.flush()
        os.fsync(handle.fileno())


# --- RFC 3161 timestamps -------------------------------------------------------------------------


def timestamp_token(data: bytes) -> str:
    """A timestamp authority's signed token over SHA-256(`data`), base64, from `AUDIT_TSA_URL`;
    "" when none is configured or it does not answer (the checkpoint is kept without one, and
    the failure is logged: verification with a TSA certificate reports it)."""
    url = getattr(settings, "AUDIT_TSA_URL", "")
    if not url:
        return ""
    request = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA256).build()
    try:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"AUDIT_TSA_URL must be http(s), got {url!r}")
        call = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            url,
            data=request.as_bytes(),
            headers={"Content-Type": "application/timestamp-query"},
            method="POST",
        )
        timeout = getattr(settings, "AUDIT_TSA_TIMEOUT", 10)
        with urllib.request.urlopen(call, timeout=timeout) as answer:  # noqa: S310
            body = answer.read()
        response = decode_timestamp_response(body)
        if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
            raise ValueError(f"the authority refused: status {response.status}")
        if response.tst_info.nonce != request.nonce:
            raise ValueError("the authority's answer is for another request (nonce)")
        if response.tst_info.message_imprint.message != hashlib.sha256(data).digest():
            raise ValueError("the authority timestamped something else")
    except (OSError, ValueError) as exc:
        logger.error("audit checkpoint not timestamped by %s: %s", url, exc)
        return ""
    return base64.b64encode(body).decode()


def timestamp_problem(
    token: str, statement: Statement, roots: Iterable[x509.Certificate]
) -> str | None:
    """Why `token` does not prove that `statement` existed at its time, or None when it does:
    signed by a chain to one of `roots`, over this statement, within `TSA_TOLERANCE`."""
    if not token:
        return "carries no timestamp token"
    try:
        response = decode_timestamp_response(base64.b64decode(token, validate=True))
        builder = VerifierBuilder()
        for root in roots:
            builder = builder.add_root_certificate(root)
        builder.build().verify_message(response, statement.canonical())
    except (VerificationError, ValueError, binascii.Error) as exc:
        return f"has a timestamp token that does not verify ({exc})"
    stamped = response.tst_info.gen_time
    if stamped.tzinfo is None:
        stamped = stamped.replace(tzinfo=datetime.UTC)
    if abs(stamped - statement.time) > TSA_TOLERANCE:
        return (
            f"was timestamped at {_iso(stamped)}, not at its own time {statement.at}: it was "
            "signed later than it claims"
        )
    return None


def load_certificates(path: str | Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(Path(path).read_bytes())


# --- reading them back for verification ----------------------------------------------------


@dataclass(frozen=True)
class CheckpointProblem:
    """Something wrong with the checkpoints themselves (not with the chain they describe)."""

    number: int | None
    message: str


@dataclass
class CheckpointSet:
    """The checkpoints verification holds the chain against, with what was wrong with any."""

    source: str
    statements: list[Statement] = field(default_factory=list)
    problems: list[CheckpointProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckpointSource:
    """Where verification finds checkpoints and how it checks them: the outside file (None:
    only the database's own checkpoints, which its administrator can rewrite), the public keys
    by id, and the timestamp authority's root certificates (empty: tokens are not checked)."""

    file: Path | None
    keys: Mapping[str, Ed25519PublicKey]
    tsa_roots: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_settings(cls) -> CheckpointSource:
        path = getattr(settings, "AUDIT_CHECKPOINT_FILE", "")
        ca_file = getattr(settings, "AUDIT_TSA_CA_FILE", "")
        return cls(
            file=Path(path) if path else None,
            keys=public_keys(),
            tsa_roots=tuple(load_certificates(ca_file)) if ca_file else (),
        )

    def load(self) -> CheckpointSet:
        """Read and check every checkpoint: each signature, the numbering, the links between
        them, the timestamps if asked, and the file against the database's copies. Call it
        inside the transaction that walks the chain, so both come from one snapshot."""
        stored = list(AuditCheckpoint.objects.order_by("number"))
        if self.file is None:
            found = self._check_all(
                [(f"database checkpoint #{c.number}", _stored_line(c)) for c in stored]
            )
            found.source = "the database's own checkpoints"
            found.notes.append(
                "no checkpoint file is configured (AUDIT_CHECKPOINT_FILE, or --checkpoints): "
                "the chain was held against the database's own checkpoints, which whoever "
                "administers the database can rewrite"
            )
            return found
        try:
            raw = self.file.read_bytes().decode("utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            raw = []
            if stored:
                found = CheckpointSet(source=str(self.file))
                found.problems.append(
                    CheckpointProblem(
                        None,
                        f"the checkpoint file {self.file} is missing, but the database holds "
                        f"{len(stored)} checkpoints: the file was deleted or replaced",
                    )
                )
                return found
        entries = []
        for number, text in enumerate(raw, start=1):
            if not text.strip():
                continue
            try:
                entries.append((f"line {number}", json.loads(text)))
            except ValueError:
                entries.append((f"line {number}", None))
        found = self._check_all(entries)
        found.source = str(self.file)
        self._compare_with_database(found, stored)
        return found

    def _check_all(self, entries: list[tuple[str, Any]]) -> CheckpointSet:
        found = CheckpointSet(source="")
        previous: Statement | None = None  # the last trusted checkpoint, if it came just before
        expected = 1
        for where, line in entries:
            statement, signature, token = _parse_line(line)
            if statement is None:
                found.problems.append(
                    CheckpointProblem(None, f"{where} is not a checkpoint: the file was edited")
                )
                previous = None
                continue
            label = f"{where} (checkpoint #{statement.number})"
            if statement.number < expected:
                found.problems.append(
                    CheckpointProblem(
                        statement.number,
                        f"{label} comes after checkpoint #{expected - 1}: checkpoints were "
                        "repeated or reordered",
                    )
                )
                continue
            if statement.number > expected:
                missing = (
                    f"#{expected}"
                    if statement.number == expected + 1
                    else f"#{expected} to #{statement.number - 1}"
                )
                found.problems.append(
                    CheckpointProblem(
                        expected,
                        f"checkpoint {missing} missing before {label}: checkpoints were deleted",
                    )
                )
                previous = None
            expected = statement.number + 1
            problem = self._signature_problem(statement, signature)
            if problem is None and previous is not None and statement.prev != previous.digest():
                problem = f"does not follow checkpoint #{previous.number}: one of them was replaced"
            if problem is None and self.tsa_roots:
                problem = timestamp_problem(token, statement, self.tsa_roots)
            if problem is not None:
                found.problems.append(CheckpointProblem(statement.number, f"{label} {problem}"))
                previous = None
                continue
            found.statements.append(statement)
            previous = statement
        return found

    def _signature_problem(self, statement: Statement, signature: str) -> str | None:
        key = self.keys.get(statement.key)
        if key is None:
            return (
                f"is signed by key {statement.key}, which is not among the public keys given: "
                "it cannot be trusted (keep old public keys in AUDIT_PUBLIC_KEYS after a "
                "rotation)"
            )
        if not signature_valid(statement, signature, key):
            return "has a bad signature: it was edited after it was signed"
        return None

    def _compare_with_database(self, found: CheckpointSet, stored: list[AuditCheckpoint]) -> None:
        in_file = {statement.number: statement for statement in found.statements}
        last_in_file = max(in_file, default=0)
        for checkpoint in stored:
            statement = statement_of(checkpoint)
            if checkpoint.number > last_in_file:
                found.problems.append(
                    CheckpointProblem(
                        checkpoint.number,
                        f"checkpoint #{checkpoint.number} is in the database but not in "
                        f"{self.file}: lines were deleted from the end of the file (or it could "
                        "not be written: see the worker's log)",
                    )
                )
            elif checkpoint.number in in_file and in_file[checkpoint.number] != statement:
                found.problems.append(
                    CheckpointProblem(
                        checkpoint.number,
                        f"checkpoint #{checkpoint.number} in the database differs from the "
                        "file's: the database's copy was rewritten",
                    )
                )
        last_stored = stored[-1].number if stored else 0
        if last_in_file > last_stored:
            found.problems.append(
                CheckpointProblem(
                    last_stored + 1,
                    f"the file holds checkpoints up to #{last_in_file} but the database only "
                    f"up to #{last_stored}: the database's checkpoints were deleted, or it was "
                    "restored from an older backup",
                )
            )


def _stored_line(checkpoint: AuditCheckpoint) -> dict[str, Any]:
    line: dict[str, Any] = json.loads(checkpoint_line(checkpoint))
    return line


def _parse_line(line: Any) -> tuple[Statement | None, str, str]:
    if not isinstance(line, dict) or line.get("v") != STATEMENT_VERSION:
        return None, "", ""
    try:
        statement = Statement(
            number=_int(line["number"]),
            seq=_int(line["seq"]),
            head=_str(line["head"]),
            at=_str(line["at"]),
            key=_str(line["key"]),
            prev=_str(line["prev"]),
        )
        statement.time  # noqa: B018 (a malformed time makes the line malformed)
        return statement, _str(line["sig"]), _str(line.get("tsr", ""))
    except (KeyError, TypeError, ValueError):
        return None, "", ""


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not an integer")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value
