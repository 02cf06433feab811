"""Browser journeys: Debian's Chromium, driven by Playwright, against pytest-django's live server.

Run them with `pytest tests/e2e` (or `-m e2e`). Helpers here are for every journey:
`login(page, live_server, user, password)` signs a user in through the real login form.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db import DEFAULT_DB_ALIAS, connections
from playwright.sync_api import Locator, Page, Playwright, expect
from pytest_django.live_server_helper import LiveServer

# Playwright's sync API runs an asyncio event loop in the test thread, so Django sees a running
# loop and refuses ORM calls made by the test (fixtures creating users) as "async unsafe". The
# test thread never shares a connection with the live server's thread, so the check is moot here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Use the system Chromium (no Playwright browser download) in a quiet, offline mode."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# Journeys start from the database exactly as migrations left it: role groups, the permissions
# data migrations grant them, the default rule set. `live_server` needs real commits, so journeys
# are transactional tests, and Django empties every table after each one; the next journey would
# find no role groups. Serialized rollback restores it: pytest-django snapshots the migrated
# database when it creates it, and Django reloads the snapshot before each journey (and skips
# recreating content types after the flush). pytest-django runs transactional tests after all
# others, so the emptying never reaches ordinary database tests. Two adjustments make it work:
#
# - Once Playwright's sync API runs its event loop in the test thread, Django keeps database
#   connections per context instead of per thread, so journeys get a new connection object that
#   lacks the snapshot Django attached to the old one. `_snapshot_follows_playwright` carries it
#   across as Playwright starts, and closes that connection at the end so the test database
#   can be dropped.
# - Published rule-set versions are guarded by triggers that reject reloading them; the reload
#   skips triggers for its one transaction (`_snapshot_reload_skips_triggers` in
#   tests/conftest.py, shared with the other transactional tests).


@pytest.fixture(scope="session")
def _migrated_snapshot(django_db_setup: None, django_db_blocker: Any) -> str:
    """The migrated database as Django serialized it, read before Playwright starts."""
    contents: str | None = getattr(connections[DEFAULT_DB_ALIAS], "_test_serialized_contents", None)
    if contents is None:
        raise RuntimeError(
            "The test database was not serialized: e2e tests need serialized rollback "
            "(the autouse `_migrated_data_restored` fixture asks for it; a `django_db` marker "
            "on a journey must say `serialized_rollback=True`)."
        )
    return contents


@pytest.fixture(scope="session", autouse=True)
def _snapshot_follows_playwright(
    _migrated_snapshot: str, playwright: Playwright, django_db_blocker: Any
) -> Iterator[None]:
    connections[DEFAULT_DB_ALIAS]._test_serialized_contents = _migrated_snapshot  # type: ignore[attr-defined]
    yield
    with django_db_blocker.unblock():
        connections.close_all()


@pytest.fixture(autouse=True)
def _migrated_data_restored(django_db_serialized_rollback: None) -> None:
    """Every journey starts from the migrated database (see the comment above)."""


def sign_in(page: Page, live_server: LiveServer, user: AbstractBaseUser, password: str) -> None:
    """Sign `user` in through the login form and wait for the home page."""
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")


@pytest.fixture
def login() -> Callable[[Page, LiveServer, AbstractBaseUser, str], None]:
    """`login(page, live_server, user, password)`: sign in through the real form."""
    return sign_in


@pytest.fixture
def artifacts_dir(pytestconfig: pytest.Config) -> Path:
    """Where journeys save screenshots: Playwright's output folder (default `test-results/`)."""
    folder = Path(pytestconfig.getoption("--output")).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def diff_side_text(side: Locator) -> str:
    """One side of a word diff (`data-testid="diff-old"` / `"diff-new"`) as it reads on
    screen: the "[removed: …]" / "[added: …]" markers for screen readers left out."""
    expect(side).to_be_visible()
    text: str = side.evaluate(
        "element => { const copy = element.cloneNode(true);"
        " copy.querySelectorAll('.visually-hidden').forEach(marker => marker.remove());"
        " return copy.textContent; }"
    )
    return text.strip()
