"""The test suite. Helpers in tests.support assert too: pytest rewrites their asserts as it does the tests'."""

import pytest

pytest.register_assert_rewrite("tests.support")
