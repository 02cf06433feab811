"""The JSON API (`/api/v1/`, django-ninja) and the personal API tokens that authenticate it.

The API is one more door onto the same services and selectors as the pages: it checks the same
roles, calls the same services and writes the same audit events. Its own app label is `api`.
"""
