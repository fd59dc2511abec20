"""The app answers its probes and the official tree is there."""


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_provinces_are_the_official_34(client):
    body = client.get("/api/v1/units?kind=province").get_json()
    assert body["meta"]["total"] == 34
    assert len(body["items"]) == 34
    assert {"code": "01", "name": "Thành phố Hà Nội"}.items() <= body["items"][0].items()
