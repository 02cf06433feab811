"""`{% load rule_words %}`: the engine's codes as words (`rules.labels`)."""

from django import template

from rules import labels

register = template.Library()
register.filter("disposition_words", labels.disposition_words)
register.filter("status_words", labels.status_words)
