from django.apps import AppConfig


class EhrConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening.ehr"
    label = "ehr"
    verbose_name = "EHR integration"
