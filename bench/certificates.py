"""`python -m bench certificates [--count N]`: issuing N certificates (default 1,000) in one
long-lived process, against the floor of issue 7: a minimal one-line HTML page rendered by
WeasyPrint with its defaults (`HTML(string="<p>Hello</p>").write_pdf()`), in the same process.

Measured, per certificate, end to end: `certificates.render.render` (the page laid out by
WeasyPrint once per issuer, course and version and kept, the fields and the Ed25519 JWS of the
QR code, the QR code by segno, the PDF update that stamps them, then the PAdES signature by
certificates/cms.py with an ECDSA P-256 key and certificate generated for the run and loaded
once) plus `lms.storage.keep_document` into a temporary STORAGE_DIR. Laying the pages out is
part of the figure: the certificates come from 3 courses, 4 issuers and reissues, so 24 pages
are laid out in the run. Not
measured: the database (Certificate objects are built in memory with their id set by hand; the
row insert and the one UPDATE of pdf_sha256 are not part of the figure), app start-up, key
generation. Names vary (Vietnamese diacritics, 8 to 100 characters), as do courses and
issuers, so no two documents are equal. The same run issues N unsigned certificates too (no
signing key configured), and times each stage on a sample. The floor is the median of its runs,
interleaved with the signed certificates (5 pages after every twentieth of them, outside their
timers), so that both see the same load on a shared machine; the medians of separate runs
before and after are shown too.
Peak RSS is that of the measuring process, start-up included (bench/peak_rss.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.engines import Scratch
from bench.procs import BENCH_SECRET, BenchError, app_env, run_measured
from bench.report import kib, ratio, table

TARGET = 0.8  # per certificate ≤ 0.8 × the one-line WeasyPrint page
FLOOR_RUNS = 100
FLOOR_WARMUP = 10
FLOOR_BLOCKS = 20  # interleaved with the signed certificates: FLOOR_RUNS / FLOOR_BLOCKS each
STAGE_SAMPLE = 100  # certificates timed stage by stage (after the end-to-end runs)

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
            "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Âu", "Ưng", "Thái", "Khổng")
MIDDLES = ("Thị", "Văn", "Hữu", "Đức", "Ngọc", "Thanh", "Minh", "Quốc", "Xuân", "Phương",
           "Diệu", "Khánh", "Tường", "Bảo", "Nhật")
GIVENS = ("Ánh", "Tuyết", "Hưng", "Dũng", "Yến", "Phượng", "Nguyệt", "Khuê", "Thủy", "Ý",
          "Ân", "Lộc", "Quỳnh", "Hạnh", "Trường", "Nghiêm", "Thương", "Uyên", "Đạt", "Hiếu",
          "Nghiêng", "Oanh", "Ễnh", "Ỷ", "Ức")
BY_LENGTH: dict[int, list[str]] = {}
for _word in (*MIDDLES, *GIVENS):
    BY_LENGTH.setdefault(len(_word), []).append(_word)
NAME_LENGTHS = (8, 14, 19, 24, 28, 33, 40, 52, 60, 75, 90, 100)
COURSES = (("ATGT-HS", "An toàn giao thông cho học sinh", "Traffic safety for students"),
           ("ATKGM-HS", "An toàn trên không gian mạng", "Staying safe online"),
           ("CQS-CB", "Chính quyền số và kỹ năng số cho cán bộ, công chức, viên chức, người "
                      "lao động", "Digital government for public servants"))
ISSUERS = (("Trường THCS Nguyễn Du", "UBND xã Đông Anh"),
           ("Trường Tiểu học Lê Quý Đôn", "UBND phường Hoàn Kiếm"),
           ("Trường Phổ thông Dân tộc Nội trú Trung học cơ sở và Trung học phổ thông huyện "
            "Mường Nhé", "UBND xã Mường Nhé"),
           ("Sở Khoa học và Công nghệ", "UBND thành phố Hà Nội"))


def full_name(rng: random.Random, length: int) -> str:
    """A Vietnamese name of exactly `length` characters (at least 8): surname, then middle
    and given names, the last one chosen to fill the line exactly."""
    words = [rng.choice(SURNAMES)]
    while (left := length - len(" ".join(words))) > 8:
        words.append(rng.choice(MIDDLES if len(words) < 3 else GIVENS))
    left = length - len(" ".join(words))
    while left < 2:  # no room for " X": drop a word and fill again
        words.pop()
        left = length - len(" ".join(words))
    if left > 8:
        words.append(rng.choice([w for w in GIVENS if len(w) <= left - 4]))
        left = length - len(" ".join(words))
    words.append(rng.choice(BY_LENGTH[left - 1]))
    name = " ".join(words)
    assert len(name) == length, (name, length)
    return name


def certificates(first_id: int, count: int, seed: int) -> list:
    from certificates.models import Certificate

    rng = random.Random(seed)
    issued = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    out = []
    for n in range(count):
        number = first_id + n
        course = COURSES[n % len(COURSES)]
        unit, parent = ISSUERS[n % len(ISSUERS)]
        code = base64.b32encode(hashlib.sha256(f"bench {number}".encode()).digest()[:20])
        out.append(Certificate(
            id=number, code=code.decode().lower(), version=1 + (n % 7 == 0),
            full_name=full_name(rng, NAME_LENGTHS[n % len(NAME_LENGTHS)]),
            birth_on=date(2008, 1, 1) + timedelta(days=rng.randrange(3650)),
            course_code=course[0], course_version=1 + n % 3, course_title_vi=course[1],
            course_title_en=course[2], completed_on=date(2026, 11, 1) + timedelta(days=n % 19),
            unit_name=unit, unit_parent_name=parent,
            issued_at=issued + timedelta(seconds=n)))
    return out


# --- the measuring process -------------------------------------------------------------------


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def _memory() -> dict[str, int]:
    return {"rss_kib": _status_kib("VmRSS"), "peak_rss_kib": _status_kib("VmHWM")}


def _signing_files(directory: Path) -> tuple[str, str]:
    """A throwaway CA and an ECDSA P-256 signing certificate (PEM files) for this run."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    def certificate(subject: str, public_key, signer, *, ca: bool) -> x509.Certificate:
        now = datetime.now(UTC)
        usage = x509.KeyUsage(digital_signature=not ca, content_commitment=not ca,
                              key_encipherment=False, data_encipherment=False,
                              key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                              encipher_only=False, decipher_only=False)
        return (x509.CertificateBuilder().subject_name(name(subject))
                .issuer_name(name("Bench CA")).public_key(public_key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .add_extension(usage, critical=True).sign(signer, hashes.SHA256()))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    pem = serialization.Encoding.PEM
    chain = (certificate("Bench signer", key.public_key(), ca_key, ca=False).public_bytes(pem)
             + certificate("Bench CA", ca_key.public_key(), ca_key, ca=True).public_bytes(pem))
    key_file, cert_file = directory / "signer.key", directory / "signer.pem"
    key_file.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(chain)
    return str(key_file), str(cert_file)


def _floor_runs(count: int) -> list[float]:
    import weasyprint

    runs = []
    for _ in range(count):
        started = time.perf_counter()
        weasyprint.HTML(string="<p>Hello</p>").write_pdf()
        runs.append(time.perf_counter() - started)
    return runs


def _floor() -> dict[str, Any]:
    _floor_runs(FLOOR_WARMUP)
    runs = _floor_runs(FLOOR_RUNS)
    return {"median_s": statistics.median(runs), "min_s": min(runs), "runs": len(runs)}


def _issue(batch: list, *, signed: bool, floor: list[float] | None = None) -> dict[str, Any]:
    """render + sign + store for every certificate of batch, each timed; with floor, floor
    pages run between blocks of certificates (outside their timers) and are appended to it."""
    from certificates.render import render
    from lms.storage import keep_document, read_document

    times, sizes, keys = [], [], set()
    memory_at_tenth = None
    block = max(1, len(batch) // FLOOR_BLOCKS)
    for n, cert in enumerate(batch):
        if floor is not None and n % block == 0:
            floor.extend(_floor_runs(FLOOR_RUNS // FLOOR_BLOCKS))
        begun = time.perf_counter()
        pdf, was_signed = render(cert, issuer_parent=cert.unit_parent_name)
        key = keep_document(pdf)
        times.append(time.perf_counter() - begun)
        if was_signed is not signed or not pdf.startswith(b"%PDF-"):
            raise SystemExit(f"certificate {cert.id}: signed={was_signed}, expected {signed}")
        sizes.append(len(pdf))
        keys.add(key)
        if n + 1 == max(1, len(batch) // 10):
            memory_at_tenth = _memory()
    wall = sum(times)
    if len(keys) != len(batch) or read_document(key) != pdf:
        raise SystemExit("stored documents missing or not distinct")
    ordered = sorted(times)
    return {"count": len(batch), "wall_s": wall, "mean_s": wall / len(batch),
            "median_s": statistics.median(times), "p95_s": ordered[int(0.95 * (len(ordered) - 1))],
            "max_s": ordered[-1], "first_s": times[0], "mean_bytes": statistics.mean(sizes),
            "memory_at_tenth": memory_at_tenth, "memory_at_end": _memory()}


def _stages(batch: list, signer) -> dict[str, float]:
    """Median seconds of each stage, on a sample, called as render.render calls them: the
    stamped way, then (for what cannot be stamped) the whole layout by WeasyPrint."""
    from certificates import cms, pades, render, stamp
    from lms.pdf import render_pdf
    from lms.storage import keep_document

    fast = cms.fast_signer(signer)
    stages: dict[str, list[float]] = {k: [] for k in (
        "page", "fields", "qr", "assemble", "store", "whole_html", "whole_weasyprint",
        "whole_sign")}
    for cert in batch:
        t0 = time.perf_counter()
        page = render.stamp_page(cert, issuer_parent=cert.unit_parent_name, signed=True)
        t1 = time.perf_counter()
        fields = render.stamp_fields(cert)
        t2 = time.perf_counter()
        matrix = stamp.qr_matrix(fields.qr_text)
        t3 = time.perf_counter()
        pdf = stamp.assemble(page, fields, fast, reason=pades.REASON, location=pades.LOCATION,
                             matrix=matrix)
        t4 = time.perf_counter()
        keep_document(pdf)
        t5 = time.perf_counter()
        html = render.certificate_html(cert, issuer_parent=cert.unit_parent_name, signed=True)
        qr = render.qr_png(render.qr_text(cert))
        t6 = time.perf_counter()
        whole = render_pdf(html, stylesheets=[render.CERTIFICATE_CSS], created=cert.issued_at,
                           identifier=cert.code, inline={render.QR_NAME: (qr, "image/png")})
        t7 = time.perf_counter()
        pades.sign(whole, signer)
        t8 = time.perf_counter()
        for name, value in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5,
                                        t7 - t6, t8 - t7), strict=True):
            stages[name].append(value)
    return {k: statistics.median(v) for k, v in stages.items()}


def measure(count: int, directory: Path) -> dict[str, Any]:
    from certificates import pades
    from lms.app import create_app

    key_file, cert_file = _signing_files(directory)
    app = create_app({"TESTING": True, "SECRET_KEY": BENCH_SECRET, "CONFIG_FILE": "",
                      "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
                      "STORAGE_DIR": str(directory / "storage"),
                      "CERTIFICATE_SIGNING_KEY_FILE": key_file,
                      "CERTIFICATE_SIGNING_CERT_FILE": cert_file})
    out: dict[str, Any] = {"count": count, "memory_at_start": _memory()}
    with app.app_context():
        out["floor_before"] = _floor()
        out["memory_after_floor"] = _memory()
        interleaved: list[float] = []
        out["signed"] = _issue(certificates(1, count, seed=7), signed=True, floor=interleaved)
        signer = pades.configured_signer()
        app.config.update(CERTIFICATE_SIGNING_KEY_FILE=None, CERTIFICATE_SIGNING_CERT_FILE=None)
        out["unsigned"] = _issue(certificates(count + 1, count, seed=8), signed=False)
        out["stages"] = _stages(certificates(2 * count + 1, min(count, STAGE_SAMPLE), seed=9),
                                signer)
        out["floor_after"] = _floor()
    names = [c.full_name for c in certificates(1, count, seed=7)]
    out["name_lengths"] = [min(map(len, names)), max(map(len, names))]
    out["floor_interleaved"] = {"median_s": statistics.median(interleaved),
                                "min_s": min(interleaved), "runs": len(interleaved)}
    out["floor_s"] = out["floor_interleaved"]["median_s"]
    return out


# --- the harness -----------------------------------------------------------------------------


def run(count: int) -> dict[str, Any]:
    with Scratch("certificates") as scratch:
        print(f"certificates: issuing {count:,} signed and {count:,} unsigned in one "
              "process ...", flush=True)
        measured = run_measured(
            [sys.executable, "-m", "bench.certificates", str(count), str(scratch.directory)],
            env=app_env(f"sqlite:///{scratch.path('unused.sqlite3')}"),
            timeout=120 + count * 1.0, log=scratch.path("certificates.log"))
        out = json.loads(measured.stdout.strip().splitlines()[-1])
    if out["signed"]["count"] != count or out["unsigned"]["count"] != count:
        raise BenchError("certificates: not every certificate was issued")
    out["peak_rss_kib"] = measured.peak_rss_kib
    out["target"] = TARGET
    out["signed_over_floor"] = out["signed"]["mean_s"] / out["floor_s"]
    out["unsigned_over_floor"] = out["unsigned"]["mean_s"] / out["floor_s"]
    _print(out)
    return out


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _print(out: dict[str, Any]) -> None:
    floor, n = out["floor_s"], out["count"]
    print(f"\ncertificates: {n:,} issued in one process, names of {out['name_lengths'][0]} to "
          f"{out['name_lengths'][1]} characters; the floor is WeasyPrint's one-line page")
    rows = [["floor: HTML('<p>Hello</p>').write_pdf(), median", _ms(floor), "", "", "",
             f"{1 / floor:,.1f}", "1.00×"]]
    for label, key in (("certificate: render + PAdES sign + store", "signed"),
                       ("certificate unsigned: render + store", "unsigned")):
        r = out[key]
        rows.append([label, _ms(r["mean_s"]), _ms(r["median_s"]), _ms(r["p95_s"]),
                     _ms(r["first_s"]), f"{1 / r['mean_s']:,.1f}", ratio(r["mean_s"], floor)])
    print(table(["per document", "mean ms", "median", "p95", "first", "per s", "÷ floor"],
                rows))
    stages = out["stages"]
    stamped = ("page", "fields", "qr", "assemble", "store")
    total = sum(stages[k] for k in stamped)
    print(f"\nwhere a signed certificate's time goes (medians over {min(n, STAGE_SAMPLE)}):")
    print(table(["stage", "ms", "share", "÷ floor"], [
        [label, _ms(stages[k]), f"{stages[k] / total:.0%}", ratio(stages[k], floor)]
        for k, label in (("page", "laid-out page (cache; WeasyPrint once per key)"),
                         ("fields", "fields + JWS of the QR code"),
                         ("qr", "QR code (segno)"),
                         ("assemble", "PDF update + PAdES signature (cms.py)"),
                         ("store", "keep_document"))]))
    whole = sum(stages[k] for k in ("whole_html", "whole_weasyprint", "whole_sign"))
    print(f"laid out whole instead (names the stamp cannot draw): {_ms(whole)} ms = template + "
          f"QR PNG {_ms(stages['whole_html'])}, WeasyPrint {_ms(stages['whole_weasyprint'])}, "
          f"pyHanko {_ms(stages['whole_sign'])} ({ratio(whole, floor)})")
    s, u = out["signed"], out["unsigned"]
    grew = s["memory_at_end"]["rss_kib"] - s["memory_at_tenth"]["rss_kib"]
    print(f"\nfloor: median of {out['floor_interleaved']['runs']} pages interleaved with the "
          f"signed certificates (this counts), {_ms(out['floor_before']['median_s'])} ms before "
          f"and {_ms(out['floor_after']['median_s'])} ms after them; "
          f"mean PDF {s['mean_bytes'] / 1024:,.0f} KiB signed, "
          f"{u['mean_bytes'] / 1024:,.0f} KiB unsigned")
    print(f"peak RSS {kib(out['peak_rss_kib'])} (the whole process; "
          f"{kib(out['memory_after_floor']['peak_rss_kib'])} after the floor); RSS grew "
          f"{grew / 1024:+,.1f} MiB from certificate {max(1, n // 10):,} to {n:,}")
    over = out["signed_over_floor"]
    verdict = "PASS" if over <= TARGET else "FAIL"
    print(f"certificates: {_ms(s['mean_s'])} ms per signed certificate = {over:.2f}× the floor, "
          f"{1 / s['mean_s']:,.1f} certificates/s: {verdict} against ≤ {TARGET}× "
          f"(unsigned: {out['unsigned_over_floor']:.2f}×)")


def main(argv: list[str]) -> None:
    count, directory = int(argv[0]), Path(argv[1])
    with tempfile.TemporaryDirectory(dir=directory) as work:
        out = measure(count, Path(work))
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
