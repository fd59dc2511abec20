"""What every feature needs: app factory, config, database session, errors, security, auth,
org units, people and roles, i18n, CLI root and base templates."""
