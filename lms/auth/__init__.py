"""Sign-in with VNeID over OpenID Connect (Authlib-free id_token checks, see oidc.py), server-
side sessions, and the development identity provider served under /dev-idp/ when enabled."""

from flask import Flask


def init_app(app: Flask) -> None:
    from lms.auth import local_views, views

    config = app.config
    if config["DEV_IDP"]:
        from lms.auth.devidp import views as devidp

        # The embedded default talks to its own provider, over HTTP, with the same client.
        config["OIDC_ISSUER"] = config.get("OIDC_ISSUER") or config["DEV_IDP_ISSUER"]
        config["OIDC_CLIENT_ID"] = config.get("OIDC_CLIENT_ID") or devidp.CLIENT_ID
        config["OIDC_CLIENT_SECRET"] = (config.get("OIDC_CLIENT_SECRET")
                                        or devidp.client_secret(config))
        app.register_blueprint(devidp.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(local_views.bp)
