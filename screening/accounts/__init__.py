"""Accounts: sign-in with a second factor (django-allauth), single sign-on, user administration
and each person's sessions. Below the screening domain: it imports only the platform."""
