"""A CDS Hooks `patient-view` call over HTTP against the framework floor and the evaluate
endpoint, in the same run.

    .venv/bin/python bench/cds.py [--requests N] [--workers W] [--keep-db] [--smoke]

Creates the PostgreSQL database `screening_bench_cds` (as bench/http.py does), starts gunicorn
(the bench settings, DEBUG off) with one allowed CDS client whose ES384 key this process holds,
and times, one request at a time, taking turns: the floor page (signed in), `POST
/api/v1/screenings/evaluate` (API token, the trd-eligible facts) and `POST
/cds-services/ketamine-screening` with a realistic prefetch (the Patient, 20 Observations,
10 Conditions, 15 MedicationRequests), each call with a freshly signed JWT (signing happens
before the clock starts). Prints p50 and p95 of each; the last line is
`cds: patient-view p95 / evaluate p95 = R` (target R ≤ 2, and p95 well under a second).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)

import http.client  # noqa: E402

from bench import harness  # noqa: E402

DATABASE = harness.sibling_database("bench_cds")
CLIENT = "https://bench-ehr.example"
SERVICE = "/cds-services/ketamine-screening"
LOINC = "http://loinc.org"


def prefetch(today: date) -> dict[str, Any]:
    """A realistic prefetch: 20 Observations, 10 Conditions, 15 MedicationRequests."""

    def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources],
        }

    codes = ["44261-6", "44260-8", "70274-6", "8867-4", "29463-7"]
    observations = [
        {
            "resourceType": "Observation",
            "id": f"o{i}",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": codes[i % len(codes)]}]},
            "effectiveDateTime": (today - timedelta(days=i)).isoformat(),
            "valueQuantity": {"value": [12, 1, 8, 72, 70][i % len(codes)]},
        }
        for i in range(18)
    ]
    observations += [
        {
            "resourceType": "Observation",
            "id": f"bp{i}",
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
            "effectiveDateTime": (today - timedelta(days=i)).isoformat(),
            "component": [
                {
                    "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                    "valueQuantity": {"value": 128},
                },
                {
                    "code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                    "valueQuantity": {"value": 82},
                },
            ],
        }
        for i in range(2)
    ]
    icd = [
        "F33.1",
        "F41.1",
        "E78.5",
        "I10",
        "K21.9",
        "M54.5",
        "J45.909",
        "E11.9",
        "G43.909",
        "F43.10",
    ]
    conditions = [
        {
            "resourceType": "Condition",
            "id": f"c{i}",
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "code": "active",
                    }
                ]
            },
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]},
        }
        for i, code in enumerate(icd)
    ]
    rx = [
        "36437",
        "6809",
        "29046",
        "83367",
        "5640",
        "161",
        "1191",
        "17767",
        "32968",
        "4603",
        "6448",
        "8640",
        "10689",
        "2670",
        "41493",
    ]
    medications = [
        {
            "resourceType": "MedicationRequest",
            "id": f"m{i}",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {
                "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": code}]
            },
        }
        for i, code in enumerate(rx)
    ]
    return {
        "patient": {"resourceType": "Patient", "id": "bench", "birthDate": "1984-03-01"},
        "observations": bundle(observations),
        "conditions": bundle(conditions),
        "medications": bundle(medications),
    }


def call(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(harness.HOST, port, timeout=60)
    try:
        connection.request(
            method, path, body=body, headers={"Host": f"{harness.HOST}:{port}", **headers}
        )
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    return response.status, (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--keep-db", action="store_true", help=f"reuse and keep {DATABASE}")
    parser.add_argument("--smoke", action="store_true", help="seconds: proves the bench runs")
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.workers = 5, 1

    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-cds-"))
    clients = folder / "cds-clients.json"
    clients.write_text(json.dumps({CLIENT: {"public_keys": [public]}}))
    os.environ["CDS_CLIENTS_FILE"] = str(clients)

    harness.stop_on_sigterm()
    url = harness.database_url(DATABASE)
    harness.prepare_database(url, keep=args.keep_db)
    try:
        from django.contrib.auth.models import User

        from screening.api.services import api_token_create

        password = secrets.token_urlsafe(16)
        (username,) = harness.clinicians(1, "bench-cds", password)
        token = api_token_create(
            user=User.objects.get(username=username), name=f"bench {uuid.uuid4()}"
        )[1]
        today = datetime.now(UTC).date()
        facts = json.loads(
            (ROOT / "rules" / "data" / "vignettes-v2" / "trd-eligible.json").read_text()
        )["facts"]
        hook = {
            "hook": "patient-view",
            "hookInstance": "",
            "context": {"userId": "Practitioner/1", "patientId": "bench"},
            "prefetch": prefetch(today),
        }
        with harness.Server(url, logs=folder, workers=args.workers) as server:
            browser = harness.Client(server.port)
            browser.login(username, password)
            audience = f"http://{harness.HOST}:{server.port}{SERVICE}"

            def floor() -> tuple[int, float]:
                response = browser.post("/bench/floor/")
                return response.status, response.ms

            def evaluate() -> tuple[int, float]:
                return call(
                    server.port,
                    "POST",
                    "/api/v1/screenings/evaluate",
                    json.dumps(facts).encode(),
                    {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )

            def patient_view() -> tuple[int, float]:
                now = int(time.time())
                signed = jwt.encode(
                    {
                        "iss": CLIENT,
                        "aud": audience,
                        "exp": now + 300,
                        "iat": now,
                        "jti": str(uuid.uuid4()),
                    },
                    key,
                    algorithm="ES384",
                )
                body = json.dumps({**hook, "hookInstance": str(uuid.uuid4())}).encode()
                return call(
                    server.port,
                    "POST",
                    SERVICE,
                    body,
                    {"Authorization": f"Bearer {signed}", "Content-Type": "application/json"},
                )

            samples: dict[str, list[float]] = {"floor": [], "evaluate": [], "patient-view": []}
            steps = {"floor": floor, "evaluate": evaluate, "patient-view": patient_view}
            for name, step in steps.items():  # warm up, and check each answers 200
                status, _ = step()
                if status != 200:
                    raise harness.BenchError(f"{name} answered {status}")
            for _ in range(args.requests):
                for name, step in steps.items():
                    status, ms = step()
                    if status != 200:
                        raise harness.BenchError(f"{name} answered {status}")
                    samples[name].append(ms)
        for name, values in samples.items():
            print(
                f"{name}: p50 {harness.percentile(values, 0.5):.1f} ms, p95 {harness.percentile(values, 0.95):.1f} ms ({len(values)} requests)"
            )
        ratio = harness.percentile(samples["patient-view"], 0.95) / harness.percentile(
            samples["evaluate"], 0.95
        )
        print(f"cds: patient-view p95 / evaluate p95 = {ratio:.2f}")
    finally:
        if not args.keep_db:
            harness.drop_database(url)


if __name__ == "__main__":
    main()
