"""The app answers its probes and the official tree is there."""


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_provinces_are_the_official_34(client):
    body = client.get("/api/v1/units?kind=province").get_json()
    assert body["meta"]["total"] == 34
    assert len(body["items"]) == 34
    assert {"code": "01", "name": "Thành phố Hà Nội"}.items() <= body["items"][0].items()


def test_openapi_document_covers_the_api(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    documented = {path for path in document["paths"]}
    routes = {rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
              for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/v1/") and rule.endpoint != "api-docs.openapi_json"}
    assert routes <= documented, routes - documented
    error = document["components"]["schemas"]["Error"]["properties"]
    assert set(error) == {"code", "status", "message", "errors"}


def test_communes_of_a_province_with_official_names(client):
    body = client.get("/api/v1/units?parent=08").get_json()
    assert body["meta"]["total"] == 124 == len(body["items"])
    assert all(u["kind"] == "commune" and u["parent_code"] == "08" for u in body["items"])
    names = {u["name"] for u in body["items"]}
    assert "Phường Hà Giang 1" in names and "Xã Lũng Cú" in names
