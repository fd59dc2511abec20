"""Offline verification: the QR's signed payload checks with the published key and no server;
one changed character of the payload, or of the name, fails; a foreign key fails."""

from __future__ import annotations

import json

from joserfc.jwk import KeySet, OKPKey

from certificates import keys, offline, render


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["certificates", "verify-qr", *args])


def test_issued_qr_verifies_offline_and_alterations_fail(db, app, client, complete, tmp_path):
    _user, _e, cert = complete()
    text = render.qr_text(cert)
    url, token = text.split("#")
    assert url.endswith(f"/verify/{cert.code}")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(client.get("/.well-known/jwks.json").get_data(as_text=True))

    good = _cli(app, text, "--jwks", str(jwks), "--name", cert.full_name)
    assert good.exit_code == 0, good.output
    assert cert.serial in good.output and "name: matches" in good.output
    assert _cli(app, token).exit_code == 0  # the bare payload, against the server's keys

    # one character of the payload changed, in each of its three parts
    header, payload, signature = token.split(".")
    for part in range(3):
        parts = [header, payload, signature]
        victim = parts[part]
        position = len(victim) // 2
        parts[part] = victim[:position] + ("A" if victim[position] != "A" else "B") + \
            victim[position + 1:]
        altered = _cli(app, ".".join(parts), "--jwks", str(jwks))
        assert altered.exit_code == 1 and "INVALID" in altered.output, part

    # the name changed by one character
    wrong_name = _cli(app, text, "--jwks", str(jwks), "--name", "Nguyễn Thị Ngọc Anh")
    assert wrong_name.exit_code == 1 and "DOES NOT MATCH" in wrong_name.output
    # ... and the online page says that name is not confirmed
    answer = client.post(f"/api/v1/verify/{cert.code}",
                         json={"name": "Nguyễn Thị Ngọc Anh"}).get_json()
    assert answer["name_confirmed"] is False

    # a key set that is not ours
    foreign = KeySet([OKPKey.generate_key("Ed25519", {"kid": keys.signing_key().kid})])
    other = tmp_path / "other.json"
    other.write_text(json.dumps(foreign.as_dict(private=False)))
    assert _cli(app, text, "--jwks", str(other)).exit_code == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    refused = _cli(app, text, "--jwks", str(bad))
    assert refused.exit_code == 2 and "--jwks" in refused.output


def test_payload_claims_and_name_normalisation(db, complete):
    import unicodedata

    _user, _e, cert = complete()
    check = offline.verify(render.payload(cert), keys.public_keys(),
                           unicodedata.normalize("NFD", cert.full_name))
    assert check.ok and check.name_matches
    assert check.claims == {"s": cert.serial, "c": cert.course_code,
                            "v": cert.course_version, "d": cert.completed_on.isoformat(),
                            "n": offline.name_hash(cert.full_name)}
    assert offline.verify("a.b", keys.public_keys()).reason == "malformed"
    assert not offline.verify("x" * 5000, keys.public_keys()).valid


def test_the_printed_qr_code_scans_to_the_signed_text(db, complete):
    """A real barcode reader (zbar) decodes each certificate's own QR code off its rendered
    page: two in a row, so that no image is ever reused from one document for the next."""
    import subprocess

    from certificates import service

    for name in ("Nguyễn Thị Ngọc Ánh", "Lò Văn Páo"):
        _user, _e, cert = complete(name)
        png = subprocess.run(["pdftoppm", "-r", "300", "-png", "-singlefile", "-"],
                             input=service.pdf_bytes(cert), capture_output=True,
                             check=True).stdout
        scanned = subprocess.run(["zbarimg", "--quiet", "--raw", "-"], input=png,
                                 capture_output=True, check=True).stdout.decode().strip()
        assert scanned == render.qr_text(cert)
        assert offline.verify(offline.split_qr(scanned)[1], keys.public_keys(), name).ok
