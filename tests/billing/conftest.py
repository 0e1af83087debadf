import pytest

from tests.billing.books import Books


@pytest.fixture
def books(network, buff, stainless):
    return Books(network, buff, stainless)
