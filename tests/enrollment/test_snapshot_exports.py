"""Exports of a locked snapshot, rendered from its stored content only: the same bytes on every
download and after a late completion; hostile names as literal text in CSV and XLSX; the PDF
read back with poppler shows the unit and its figures. Live CSV/XLSX follow the figures."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import unicodedata
import zipfile

import pytest
from openpyxl import load_workbook

from enrollment.reports import snapshots
from lms.units.queries import find_unit_by_code
from tests.enrollment.test_snapshots import COMMUNE, JULY_2, JUNE_3, Clock, build_commune, complete
from tests.support.factories import login

HOSTILE = '=HYPERLINK("http://evil.example","x")'
PLUS = "+84 Lớp cộng"
FORMATS = ("csv", "xlsx", "pdf")


@pytest.fixture
def commune(db, make, tmp_path, monkeypatch):
    world = build_commune(make, tmp_path)
    world["clock"] = Clock(monkeypatch, JUNE_3)
    return world


def download(client, public_id, fmt):
    response = client.get(f"/snapshots/{public_id}.{fmt}")
    assert response.status_code == 200, response.data[:200]
    return response


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "snapshot.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"],
                          check=True, capture_output=True, text=True).stdout
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text))


def test_downloads_are_byte_identical_and_survive_a_late_completion(client, commune, tmp_path):
    may = snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    login(client, commune["officer"])
    first = {fmt: download(client, may.public_id, fmt) for fmt in FORMATS}
    for fmt, response in first.items():
        assert download(client, may.public_id, fmt).data == response.data, fmt
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="bao-cao-{COMMUNE}-2026-05-v1.{fmt}"')
        assert response.headers["ETag"].strip('"').startswith(f"{may.content_hash}-{fmt}")
        # the ETag answers a repeated download with 304
        again = client.get(f"/snapshots/{may.public_id}.{fmt}",
                           headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
    assert first["pdf"].data.startswith(b"%PDF")
    complete(commune["users"][3])  # completed after the lock
    for fmt in FORMATS:
        assert download(client, may.public_id, fmt).data == first[fmt].data, fmt
    rows = read_csv(first["csv"].data)
    assert rows[1][2] == COMMUNE and rows[1][6] == "2"  # completed at lock time
    # the completion shows in June's snapshot
    commune["clock"].moment = JULY_2
    june = snapshots.lock(commune["officer"], COMMUNE, "2026-06")
    june_rows = read_csv(download(client, june.public_id, "csv").data)
    assert june_rows[1][6] == "3"
    assert "Hoàng Thị Lụa" in pdf_text(download(client, june.public_id, "pdf").data, tmp_path)


def test_csv_holds_the_figures_and_the_children(client, commune):
    child = snapshots.lock(commune["officer"], "SN-S1", "2026-05")
    parent = snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    login(client, commune["officer"])
    rows = read_csv(download(client, parent.public_id, "csv").data)
    header, total, *children = rows
    assert len(header) == len(total) == 16
    # period, level, code, name, kind, expected, completed, in progress, not started, overdue,
    # exempt, rate, gap, snapshot id, version, hash
    assert total[0] == "2026-05" and total[2] == COMMUNE
    assert total[5:13] == ["6", "2", "1", "3", "4", "0", "33.3", "4"]
    assert total[13:] == [parent.public_id, "1", parent.content_hash]
    by_code = {r[2]: r for r in children}
    assert by_code["SN-S1"][5:13] == ["4", "1", "1", "2", "3", "0", "25.0", "3"]
    assert by_code["SN-S1"][13:] == [child.public_id, "1", child.content_hash]
    assert by_code["SN-S2"][5:13] == ["2", "1", "0", "1", "1", "0", "50.0", "1"]
    assert by_code["SN-S2"][13:] == ["", "", ""]


def test_xlsx_has_two_sheets_with_numbers(client, commune):
    parent = snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    login(client, commune["officer"])
    data = download(client, parent.public_id, "xlsx").data
    book = load_workbook(io.BytesIO(data))
    summary, units = book.worksheets
    values = {row[0]: row[1] for row in summary.iter_rows(min_row=2, values_only=True)}
    assert parent.content_hash in values.values() and "2026-05" in values.values()
    rows = list(units.iter_rows(values_only=True))
    assert rows[1][2] == COMMUNE and rows[1][5:11] == (6, 2, 1, 3, 4, 0)
    core = zipfile.ZipFile(io.BytesIO(data)).read("docProps/core.xml").decode()
    assert "2026-06-03T03:00:00Z" in core  # created = locked_at


def test_pdf_shows_the_unit_its_figures_and_the_signer(client, commune, tmp_path):
    parent = snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    login(client, commune["officer"])
    text = pdf_text(download(client, parent.public_id, "pdf").data, tmp_path)
    name = unicodedata.normalize("NFC", find_unit_by_code(COMMUNE).name)
    assert name in text
    assert re.search(r"Số người phải hoàn thành 6\b", text)
    assert re.search(r"Đã hoàn thành 2\b", text)
    assert "33,3%" in text
    assert "Trường Tiểu học Một" in text and "Trường Tiểu học Hai" in text
    assert "Hoàng Thị Lụa" in text  # the officer who locked signs
    assert f"01/BC-{COMMUNE}" in text
    assert "ngày 03 tháng 6 năm 2026" in text  # the local date of the lock
    assert "Tuyên Quang, ngày" in text  # the province is the place
    assert parent.content_hash in text.replace(" ", "")


def test_hostile_names_come_out_as_literal_text(client, db, make, commune, tmp_path):
    school = make.unit("school", COMMUNE, code="SN-EVIL", name="Trường tạm")
    klass = make.unit("class", school, code="SN-EVIL-1", name="Lớp tạm")
    # names set past the forms, which refuse them: the exports must hold even so
    school.name, klass.name = HOSTILE, PLUS
    db.flush()
    snapshot = snapshots.lock(commune["officer"], "SN-EVIL", "2026-05")
    login(client, commune["officer"])
    rows = read_csv(download(client, snapshot.public_id, "csv").data)
    assert rows[1][3] == "'" + HOSTILE
    assert rows[2][3] == "'" + PLUS
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    data = download(client, snapshot.public_id, "xlsx").data
    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in archive.namelist():
        if name.startswith("xl/worksheets/"):
            assert not re.search(rb"<f[ >]", archive.read(name)), name
    book = load_workbook(io.BytesIO(data))
    texts = [c for ws in book.worksheets for row in ws.iter_rows() for c in row
             if c.value in (HOSTILE, PLUS)]
    assert {c.value for c in texts} == {HOSTILE, PLUS}
    assert all(c.data_type == "s" for c in texts)
    text = pdf_text(download(client, snapshot.public_id, "pdf").data, tmp_path)
    assert "Lớp cộng" in text


def test_live_exports_follow_the_current_figures(client, commune):
    login(client, commune["officer"])
    response = client.get(f"/units/{COMMUNE}/figures.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="so-lieu-{COMMUNE}-')
    assert read_csv(response.data)[1][5:7] == ["6", "2"]
    complete(commune["users"][3])
    assert read_csv(client.get(f"/units/{COMMUNE}/figures.csv").data)[1][5:7] == ["6", "3"]
    xlsx = client.get(f"/units/{COMMUNE}/figures.xlsx")
    assert xlsx.status_code == 200
    units = load_workbook(io.BytesIO(xlsx.data)).worksheets[1]
    assert list(units.iter_rows(values_only=True))[1][5:7] == (6, 3)


def test_a_school_admin_cannot_download_the_communes_snapshot(client, make, commune):
    from lms.people.models import Role

    parent = snapshots.lock(commune["officer"], COMMUNE, "2026-05")
    login(client, make.person(Role.UNIT_ADMIN, commune["s1"]))
    for fmt in FORMATS:
        assert client.get(f"/snapshots/{parent.public_id}.{fmt}").status_code == 404
    assert client.get(f"/units/{COMMUNE}/figures.csv").status_code == 404
    assert client.get("/units/SN-S1/figures.csv").status_code == 200
