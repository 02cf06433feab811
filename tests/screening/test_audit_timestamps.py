"""Checkpoints timestamped by an RFC 3161 authority: a real one, run here on 127.0.0.1 by
`openssl ts -reply` with a root and a timestamping certificate made for the test run, spoken
to by `rfc3161-client` as a production authority would be."""

from __future__ import annotations

import base64
import http.server
import io
import json
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command

from screening.core.audit import audit_record, audit_verify
from screening.core.checkpoints import (
    CheckpointSource,
    Statement,
    audit_checkpoint,
    load_certificates,
    public_keys,
    signing_key,
    timestamp_token,
)
from screening.core.models import AuditCheckpoint

pytestmark = pytest.mark.django_db

TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass
class Authority:
    url: str
    root: Path
    requests: list[bytes]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(directory: Path) -> None:
    """A root CA and a timestamping certificate it signs (critical EKU timeStamping)."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=Test timestamp root",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)  # fmt: skip
    openssl("req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=Test TSA",
            cwd=directory)  # fmt: skip
    (directory / "tsa.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=critical,timeStamping\n"
    )
    openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "tsa.crt", "-days", "2", "-extfile", "tsa.ext",
            cwd=directory)  # fmt: skip
    (directory / "tsa.cnf").write_text(TSA_CONFIG.format(dir=directory))


@pytest.fixture(scope="module")
def authority() -> Iterator[Authority]:
    """An RFC 3161 timestamp authority over HTTP on 127.0.0.1: each request body is piped to
    `openssl ts -reply`, which signs it with the test's timestamping certificate."""
    if shutil.which("openssl") is None:
        pytest.fail("the timestamp tests run a local authority with `openssl ts`: install openssl")
    with tempfile.TemporaryDirectory(prefix="tsa-") as name:
        directory = Path(name)
        make_certificates(directory)
        requests: list[bytes] = []
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    requests.append(query)
                    (directory / "query.tsq").write_bytes(query)
                    openssl("ts", "-reply", "-config", "tsa.cnf", "-queryfile", "query.tsq",
                            "-out", "reply.tsr", cwd=directory)  # fmt: skip
                    reply = (directory / "reply.tsr").read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Authority(
                url=f"http://127.0.0.1:{server.server_port}/tsr",
                root=directory / "ca.crt",
                requests=requests,
            )
        finally:
            server.shutdown()
            server.server_close()


@pytest.fixture
def stamped(anchors, authority, settings):
    settings.AUDIT_TSA_URL = authority.url
    return anchors


def source(anchors, authority) -> CheckpointSource:
    return CheckpointSource(
        file=anchors.checkpoints,
        keys=public_keys(anchors.public_key_files()),
        tsa_roots=tuple(load_certificates(authority.root)),
    )


def test_checkpoints_are_timestamped_and_verify_with_the_authoritys_root(stamped, authority):
    audit_record(actor=None, action="system.check")
    first = audit_checkpoint()
    audit_record(actor=None, action="system.check")
    audit_checkpoint()

    assert first.timestamp_token
    assert stamped.lines()[0]["tsr"] == first.timestamp_token
    result = audit_verify(checkpoints=source(stamped, authority))
    assert result.ok, result.findings
    assert result.checkpoints_checked == 2
    out = io.StringIO()
    call_command(
        "verify_audit",
        "--checkpoints", str(stamped.checkpoints),
        "--public-key", str(stamped.public_keys),
        "--tsa-ca", str(authority.root),
        stdout=out,
    )  # fmt: skip
    assert "audit trail intact: 2 events" in out.getvalue()


def test_a_checkpoint_without_a_timestamp_is_reported_when_timestamps_are_checked(
    stamped, authority, settings
):
    audit_checkpoint()
    settings.AUDIT_TSA_URL = ""
    audit_checkpoint()

    result = audit_verify(checkpoints=source(stamped, authority))

    assert not result.ok
    assert result.reason == "line 2 (checkpoint #2) carries no timestamp token"


def test_a_timestamp_moved_to_another_checkpoint_does_not_verify(stamped, authority):
    audit_checkpoint()
    audit_record(actor=None, action="system.check")
    audit_checkpoint()
    first, second = stamped.lines()
    second["tsr"] = first["tsr"]
    stamped.write_lines([json.dumps(first), json.dumps(second)])

    result = audit_verify(checkpoints=source(stamped, authority))

    assert not result.ok
    assert result.reason.startswith(
        "line 2 (checkpoint #2) has a timestamp token that does not verify"
    )


def test_a_checkpoint_backdated_with_the_signing_key_is_caught_by_the_authoritys_time(
    stamped, authority
):
    # Someone holding the signing key writes a checkpoint claiming an earlier time; the
    # authority stamps it with the time it really saw it.
    audit_record(actor=None, action="system.check")
    real = audit_checkpoint()
    key = signing_key()
    claimed = Statement(
        number=real.number,
        seq=real.seq,
        head=real.head_hash,
        at="2026-01-01T00:00:00.000000+00:00",
        key=real.key_id,
        prev=real.prev_digest,
    )
    line = {
        **claimed.as_dict(),
        "sig": base64.b64encode(key.sign(claimed.canonical())).decode(),
        "tsr": timestamp_token(claimed.canonical()),
    }
    stamped.write_lines([json.dumps(line)])

    result = audit_verify(checkpoints=source(stamped, authority))

    assert not result.ok
    assert "line 1 (checkpoint #1) was timestamped at" in result.reason
    assert "not at its own time 2026-01-01T00:00:00.000000+00:00" in result.reason


def test_an_unreachable_authority_leaves_the_checkpoint_without_a_token_and_says_so(
    stamped, settings, caplog
):
    settings.AUDIT_TSA_URL = "http://127.0.0.1:9/tsr"  # discard port: nothing answers

    checkpoint = audit_checkpoint()

    assert checkpoint.timestamp_token == ""
    assert AuditCheckpoint.objects.count() == 1
    assert "audit checkpoint not timestamped by http://127.0.0.1:9/tsr" in caplog.text
