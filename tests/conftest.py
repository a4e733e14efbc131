import pytest
from django.core.cache import cache
from django.template.backends import jinja2 as jinja2_backend
from django.test import TestCase, TransactionTestCase
from django.test.signals import template_rendered
from pytest_django.plugin import blocking_manager_key


@pytest.fixture(autouse=True, scope="session")
def _jinja2_rendered_signal():
    """Let the test client see what a Jinja2 template rendered with
    (``response.context``), as Django's test runner does for its own
    templates: the readers' pages are Jinja2 (monographs/jinja2.py)."""
    render = jinja2_backend.Template.render

    def instrumented(self, context=None, request=None):
        template_rendered.send(
            sender=self, template=self.template, context=dict(context or {})
        )
        return render(self, context, request)

    jinja2_backend.Template.render = instrumented
    yield
    jinja2_backend.Template.render = render


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's, ending other sessions on the test database before
    it is dropped.

    The scale-out tests (tests/test_scale_out.py) serve the test database
    from gunicorn processes. Now and then one of their sessions was still
    open when PostgreSQL was asked to drop the database (traced by its
    application_name to those tests: idle after a COMMIT, though every
    server had stopped), and pytest warned "being accessed by other users".
    """
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: pages cached by one never answer another."""
    cache.clear()
    yield
    cache.clear()


def _transactional(item):
    """Whether the test ends by emptying every table (Django's flush)."""
    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        return not issubclass(cls, TestCase)
    marker = item.get_closest_marker("django_db")
    return bool(
        (marker and marker.kwargs.get("transaction"))
        or {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Put the editorial roles back after a test that empties every table.

    Migration 0002 creates them, and a flush removes them with the rest. Run
    in one process, pytest-django runs transactional tests last; under
    pytest-xdist a process may run one before another file's tests, which
    must still find the database as migrated. A hook rather than a fixture:
    pytest-django's own fixtures flush after every fixture of the test's.
    """
    result = yield
    # After the last test (no next item) the test databases are gone.
    if nextitem is not None and _transactional(item):
        from monographs.roles import sync_roles

        with item.config.stash[blocking_manager_key].unblock():
            sync_roles()
    return result


# The name under which browser tests hand their figures to the summary.
REPORT_PROPERTY = "mgref browser report"


def pytest_terminal_summary(terminalreporter):
    """Print the figures tests reported rather than asserted (see
    tests/browser/conftest.py), from this process or pytest-xdist's workers."""
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, text in getattr(report, "user_properties", ()):
                if name == REPORT_PROPERTY:
                    terminalreporter.write_sep("-", "browser report")
                    terminalreporter.write_line(text)
