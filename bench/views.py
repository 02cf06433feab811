"""The framework floor: the least an authenticated page that writes can cost in this project.

Everything a real page pays for (session, login, CSRF, permission check, CSP, session renewal on every
request) plus one INSERT and one SELECT and a small template. Its table, `bench_floor_hit`, is
created by the benchmark harness (`bench.harness.FLOOR_TABLE_SQL`): no migration knows about it.
"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from screening.core.permissions import permission_required


@require_POST
@permission_required("screening.add_screening")
def floor(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor_hit (user_id) VALUES (%s) RETURNING id", [request.user.pk]
        )
        (hit_id,) = cursor.fetchone()
        cursor.execute("SELECT id, at FROM bench_floor_hit WHERE id = %s", [hit_id])
        hit, at = cursor.fetchone()
    return render(request, "bench/floor.html", {"hit": hit, "at": at})
