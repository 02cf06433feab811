"""Fill `ScreeningFlag` for screenings run before it existed, from each stored result and its
flag reviews (what `screening_run` and the review services write from now on)."""

from django.db import migrations

BATCH = 2000


def backfill(apps, schema_editor):
    Screening = apps.get_model("screening", "Screening")
    FlagReview = apps.get_model("screening", "FlagReview")
    ScreeningFlag = apps.get_model("screening", "ScreeningFlag")
    reviews = {
        (review.screening_id, review.rule_id): review
        for review in FlagReview.objects.only("screening_id", "rule_id", "kind", "reviewed_at")
    }
    rows = []
    screenings = Screening.objects.only("id", "run_at", "result").order_by("id")
    for screening in screenings.iterator(chunk_size=BATCH):
        for flag in screening.result.get("flags", []):
            review = reviews.get((screening.id, flag["rule"]))
            rows.append(
                ScreeningFlag(
                    screening_id=screening.id,
                    rule_id=flag["rule"],
                    severity=flag["severity"],
                    run_at=screening.run_at,
                    review_kind=review.kind if review else "",
                    reviewed_at=review.reviewed_at if review else None,
                )
            )
        if len(rows) >= BATCH:
            ScreeningFlag.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    ScreeningFlag.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("screening", "0008_reviewer_indexes")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
