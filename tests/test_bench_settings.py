"""The HTTP benchmarks' floor page (`bench/floor/`) exists only under the bench settings."""

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve

from bench.views import floor


def test_the_floor_is_not_a_page_of_the_product():
    assert settings.ROOT_URLCONF == "screening.urls"
    with pytest.raises(Resolver404):
        resolve("/bench/floor/", urlconf="screening.urls")


def test_the_bench_urls_are_the_products_plus_the_floor():
    assert resolve("/bench/floor/", urlconf="bench.urls").func is floor
    assert resolve("/login/", urlconf="bench.urls").url_name == "login"
