"""`flask certificates verify-qr PAYLOAD`: check a QR payload with no server, against the
configured key, a JWKS file (--jwks, e.g. a saved copy of /.well-known/jwks.json) or both."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from joserfc.jwk import KeySet

from certificates import keys, offline

certificates_cli = AppGroup("certificates", help="Certificates: offline verification.")


@certificates_cli.command("verify-qr")
@click.argument("payload")
@click.option("--jwks", "jwks_file", type=click.Path(exists=True, dir_okay=False),
              help="Public keys to trust (JSON Web Key Set); default: this server's keys.")
@click.option("--name", help="The name printed on the certificate, to compare with the QR.")
def verify_qr(payload: str, jwks_file: str | None, name: str | None) -> None:
    """Verify PAYLOAD: the text of a certificate's QR code (the URL with its #fragment) or
    the bare signed payload. Exit status 0 when valid (and the name matches, if given)."""
    if jwks_file:
        try:
            key_set = KeySet.import_key_set(json.loads(Path(jwks_file).read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise click.BadParameter(f"not a JSON Web Key Set: {exc}",
                                     param_hint="--jwks") from exc
    else:
        key_set = keys.public_keys()
    code, token = offline.split_qr(payload)
    check = offline.verify(token, key_set, name)
    if not check.valid:
        click.echo(f"INVALID: {check.reason}")
        sys.exit(1)
    claims = check.claims
    click.echo(f"signature: valid (serial {claims['s']}, course {claims['c']} version "
               f"{claims['v']}, completed {claims['d']})")
    if code:
        click.echo(f"online check: /verify/{code}")
    if check.name_matches is None:
        click.echo("name: not checked (use --name)")
    elif check.name_matches:
        click.echo("name: matches")
    else:
        click.echo("name: DOES NOT MATCH the signed name")
        sys.exit(1)
