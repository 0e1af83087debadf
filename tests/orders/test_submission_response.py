"""The answer to a submission is built from the inquiry the service just saved (the hot path
of the buyers' window): it must be exactly what reading the inquiry back returns."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.orders.test_inquiry_api import URL, body


def test_the_buyers_answer_equals_the_inquiry_read_back(api, network, buyer_user, buff, stainless):
    client = api.as_(buyer_user)
    with CaptureQueriesContext(connection) as queries:
        created = client.post(URL, body(network), format="json")
    assert created.status_code == 201, created.json()
    read_back = client.get(f"{URL}{created.json()['id']}/")
    assert created.json() == read_back.json()
    assert created.json()["processes"] == ["buff"] and created.json()["stages"] == []
    # Not read back: no SELECT of the inquiry, its attachments or stages after the INSERT.
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in selects if 'FROM "orders_inquiry' in sql]


def test_a_phoned_in_inquiry_answers_the_same_to_the_secretariat(
    api, network, secretariat_user, buff, stainless
):
    client = api.as_(secretariat_user)
    data = body(network, buyer={"kind": "company", "name": "燕洋食器", "email": "t@example.jp"})
    created = client.post(URL, data, format="json")
    assert created.status_code == 201, created.json()
    assert created.json() == client.get(f"{URL}{created.json()['id']}/").json()
    assert created.json()["buyer_name"] is not None
