"""Certificates in the browser at phone width: a learner finds theirs from the home page and
downloads the PDF (the same bytes every time, with their name and serial in its text); an
anonymous visitor verifies a code from the home page and checks a name against it; a school
admin revokes a certificate and the public page then says so, with the reason.

`flask demo load` completes no course, so the module fixture imports the shipped course and
completes it for a few learners of one school through the real services (each completion
issues a certificate through the `course_completed` signal)."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.e2e.conftest import import_shipped_course

CODE = "ATGT-HS"
# No other browser test uses this school: its certificates are this module's alone.
SCHOOL = "DEMO-08-S09"
LEARNERS = 2
PHONE = {"width": 360, "height": 740}
SERIAL = re.compile(r"BDHVS-\d{4}-\d{7}")
MADE_UP_CODE = "a" * 32  # well formed, never issued (codes are 160 random bits)


@dataclass(frozen=True)
class Issued:
    id: int
    code: str
    serial: str
    user_id: int
    full_name: str


@pytest.fixture(scope="module")
def certified(live_server, server_twin) -> list[Issued]:
    """The shipped traffic-safety course completed by the first LEARNERS learners of SCHOOL's
    classes; their valid certificates, oldest first."""
    import_shipped_course(live_server)
    from sqlalchemy import select

    from certificates.models import Certificate, CertificateState
    from enrollment import service as enrollment_service
    from lms.db import transaction
    from lms.people.models import User

    school_path = live_server.value("SELECT path FROM units WHERE code = ?", SCHOOL)
    learners = [user_id for (user_id,) in live_server.rows(
        "SELECT DISTINCT g.user_id FROM role_grants g JOIN units n ON n.id = g.unit_id"
        " JOIN users u ON u.id = g.user_id WHERE g.role = 'learner' AND g.revoked_at IS NULL"
        " AND u.is_active AND n.kind = 'class' AND substr(n.path, 1, length(?)) = ?"
        " ORDER BY g.user_id LIMIT ?", school_path, school_path, LEARNERS)]
    assert len(learners) == LEARNERS, learners
    with server_twin.app_context(), transaction() as current:
        for user_id in learners:
            enrollment = enrollment_service.enroll(current.get(User, user_id), CODE)
            if enrollment.completed_at is None:
                enrollment_service._complete(enrollment)
        certificates = current.execute(
            select(Certificate).where(Certificate.user_id.in_(learners),
                                      Certificate.course_code == CODE,
                                      Certificate.state == CertificateState.VALID)
            .order_by(Certificate.id)).scalars().all()
        issued = [Issued(c.id, c.code, c.serial, c.user_id, c.full_name) for c in certificates]
    assert len(issued) == LEARNERS and len({c.user_id for c in issued}) == LEARNERS, issued
    return issued


def fits_phone(page: Page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} overflows a 360 px screen: {width} px wide"


def no_inline_code(page: Page) -> None:
    """The CSP forbids inline scripts and style attributes: the page must not need them."""
    expect(page.locator("script:not([src])")).to_have_count(0)
    expect(page.locator("[style]")).to_have_count(0)


def pdf_text(data: bytes, tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                          timeout=60, check=True)
    return done.stdout.decode("utf-8")


def download(page: Page, link) -> bytes:
    with page.expect_download() as started:
        link.click()
    failure = started.value.failure()
    assert failure is None, failure
    return started.value.path().read_bytes()


def test_a_learner_downloads_their_certificate(page: Page, live_server, certified, signed_in,
                                               login_id, console_errors, tmp_path):
    cert = certified[0]
    page.set_viewport_size(PHONE)
    # login_id picks the first learner of the class: the one whose certificate this is
    class_code = live_server.value(
        "SELECT n.code FROM role_grants g JOIN units n ON n.id = g.unit_id WHERE g.user_id = ?"
        " AND g.role = 'learner' AND g.revoked_at IS NULL AND n.kind = 'class'", cert.user_id)
    assert live_server.user_id("learner", class_code) == cert.user_id
    signed_in(page, login_id("learner", class_code))
    page.goto("/")
    fits_phone(page)
    page.locator("#home-my-certificates").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/certificates")
    item = page.locator(f"#my-certificates li[data-serial='{cert.serial}']")
    expect(item).to_have_attribute("data-state", "valid")
    expect(item).to_contain_text(cert.serial)
    assert SERIAL.fullmatch(cert.serial)
    fits_phone(page)
    no_inline_code(page)

    link = item.locator("a.download")
    first = download(page, link)
    assert first.startswith(b"%PDF-")
    text = pdf_text(first, tmp_path, "first.pdf")
    name = unicodedata.normalize("NFC", cert.full_name)
    assert name in text, f"{name!r} not in the PDF text:\n{text}"
    assert cert.serial in text
    second = download(page, link)
    assert second == first  # rendered once, stored, served as stored
    assert live_server.value("SELECT pdf_sha256 FROM certificates WHERE id = ?", cert.id)
    fits_phone(page)
    other = certified[1]  # another learner's certificate: as if it did not exist
    assert other.user_id != cert.user_id
    assert page.request.get(f"/certificates/{other.serial}/pdf").status == 404
    assert console_errors == []


def test_anyone_verifies_a_code_and_checks_a_name(page: Page, live_server, certified,
                                                  console_errors):
    cert = certified[0]
    page.set_viewport_size(PHONE)  # `page` is a fresh browser context: nobody is signed in
    page.goto("/")
    page.locator("#home-verify").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/verify")
    fits_phone(page)
    no_inline_code(page)
    page.locator("#verify-code").fill(cert.code)
    page.locator("#verify-form button[type='submit']").click()
    page.wait_for_url(lambda url: urlsplit(url).path == f"/verify/{cert.code}")
    result = page.locator("#verify-result")
    expect(result).to_have_attribute("data-status", "valid")
    expect(page.locator("#status")).to_have_class(re.compile(r"\bpassed\b"))
    expect(page.locator("#name")).to_have_text(cert.full_name)
    expect(result).to_contain_text(cert.serial)
    expect(page.locator("#name-check")).to_have_count(0)
    fits_phone(page)
    no_inline_code(page)

    altered = cert.full_name + "a"
    page.locator("#check-name").fill(altered)
    page.locator("#name-form button[type='submit']").click()
    page.wait_for_load_state()
    expect(page.locator("#name-check")).to_have_class(re.compile(r"\bfailed\b"))
    expect(result).to_have_attribute("data-status", "valid")
    page.locator("#check-name").fill(cert.full_name)
    page.locator("#name-form button[type='submit']").click()
    page.wait_for_load_state()
    expect(page.locator("#name-check")).to_have_class(re.compile(r"\bpassed\b"))
    assert urlsplit(page.url).path == f"/verify/{cert.code}"  # the name is never in the URL
    fits_phone(page)
    # the public page links no PDF, and an anonymous download is refused as not found
    expect(page.locator("a[href$='/pdf']")).to_have_count(0)
    assert page.request.get(f"/certificates/{cert.serial}/pdf").status == 404
    assert console_errors == []

    response = page.goto(f"/verify/{MADE_UP_CODE}")
    assert response is not None and response.status == 404
    expect(result).to_have_attribute("data-status", "not_found")
    expect(page.locator("#status")).to_have_class(re.compile(r"\bfailed\b"))
    expect(page.locator("#name")).to_have_count(0)
    fits_phone(page)
    no_inline_code(page)
    # Chromium reports the 404 document itself on the console, and nothing else may appear
    assert len(console_errors) == 1 and "status of 404" in console_errors[0], console_errors
    assert console_errors[0].endswith(f"/verify/{MADE_UP_CODE}")


@pytest.fixture
def anonymous(browser: Browser, live_server) -> Iterator[tuple[Page, list[str]]]:
    """A second browser context, nobody signed in, and its console errors."""
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(10_000)
    visitor = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith(
                "/favicon.ico"):
            errors.append(f"{message.text} at {message.location.get('url')}")

    visitor.on("console", on_console)
    visitor.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    yield visitor, errors
    context.close()


def test_a_school_admin_revokes_and_the_public_page_says_so(page: Page, live_server, certified,
                                                            signed_in, login_id, anonymous,
                                                            console_errors):
    # Revoking changes the shared live server for good: this is the newest certificate of
    # SCHOOL, which no other test (in this module or elsewhere) reads.
    cert = certified[-1]
    assert cert.id != certified[0].id
    assert live_server.value("SELECT unit_id FROM certificates WHERE id = ?", cert.id) == \
        live_server.value("SELECT id FROM units WHERE code = ?", SCHOOL)
    page.set_viewport_size(PHONE)
    signed_in(page, login_id("unit_admin", SCHOOL))
    response = page.goto(f"/units/{SCHOOL}/certificates")
    assert response is not None and response.status == 200
    row = page.locator(f"#unit-certificates tr[data-serial='{cert.serial}']")
    expect(row).to_have_attribute("data-state", "valid")
    expect(row.locator("th")).to_have_text(cert.full_name)
    no_inline_code(page)
    other = page.locator(f"#unit-certificates tr[data-serial='{certified[0].serial}']")
    expect(other).to_have_attribute("data-state", "valid")

    reason = "Cấp nhầm người học (kiểm thử)"
    row.locator("form.revoke input[name='reason']").fill(reason)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        row.locator("form.revoke button[type='submit']").click()
    assert posted.value.status == 303
    page.wait_for_url(lambda url: urlsplit(url).path == f"/units/{SCHOOL}/certificates")
    expect(page.locator(".flash.success")).to_contain_text(cert.serial)
    expect(row).to_have_attribute("data-state", "revoked")
    expect(row.locator("form")).to_have_count(0)
    expect(other).to_have_attribute("data-state", "valid")
    assert live_server.rows("SELECT state, revoked_reason FROM certificates WHERE id = ?",
                            cert.id) == [("revoked", reason)]

    visitor, errors = anonymous
    response = visitor.goto(f"/verify/{cert.code}")
    assert response is not None and response.status == 200
    expect(visitor.locator("#verify-result")).to_have_attribute("data-status", "revoked")
    expect(visitor.locator("#status")).to_have_class(re.compile(r"\bfailed\b"))
    expect(visitor.locator("#status")).to_contain_text(reason)
    expect(visitor.locator("#name")).to_have_text(cert.full_name)
    fits_phone(visitor)
    no_inline_code(visitor)
    assert errors == []
    assert console_errors == []
