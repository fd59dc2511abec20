"""A real, minimal OpenID Connect provider for the embedded default (LMS_DEV_IDP=1): discovery,
JWKS, authorize (pick a demo citizen), token, userinfo, end-session. Refused in production."""
