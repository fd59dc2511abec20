"""The completion dashboard page: hand-computed rate and counts, child bars in gap order that
link down the tree, the monthly trend from locked snapshots, suspicious completions, the
people list for those who may see people, escaping of unit names, and 404 out of scope."""

from __future__ import annotations

import re
from datetime import date

import pytest

from enrollment.reports import suspicious
from enrollment.reports.snapshot_models import ReportSnapshot
from enrollment.reports.suspicious import suspicious_completions
from enrollment.rosters.importer import import_roster
from lms import policy
from lms.people.models import Role
from lms.units.queries import find_unit_by_code
from tests.enrollment.test_figures_api import (  # noqa: F401 (the fixture)
    BEFORE_DUE,
    TWELVE_DIGITS,
    on_day,
    roster_csv,
    scenario,
)
from tests.support.factories import login

SCRIPT = "<script>alert(1)</script>"


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def child_order(html: str) -> list[str]:
    table = html[html.index('id="children"'):]
    return re.findall(r'<tr data-code="([^"]+)">', table[:table.index("</table>")])


def test_commune_dashboard(client, monkeypatch, scenario):  # noqa: F811
    on_day(monkeypatch, BEFORE_DUE)
    login(client, scenario["officer"])
    html = page(client, "/units/00691/dashboard")
    assert re.search(r'id="unit-rate">44,4%<', html)
    for key, value in (("expected", 9), ("completed", 4), ("in_progress", 1),
                       ("not_started", 4), ("overdue", 0), ("exempt", 1), ("gap", 5)):
        assert f'data-key="{key}">{value}<' in html, key
    # one bar per child, the largest gap first (FIG-S2: 3, FIG-S1: 2), each a link down
    assert child_order(html) == ["FIG-S2", "FIG-S1"]
    assert html.index('href="/units/FIG-S2/dashboard"') < html.index(
        'href="/units/FIG-S1/dashboard"')
    assert html.count('<svg class="rate-bar child"') == 2
    assert re.search(r'<svg class="rate-bar"[^>]*role="img"[^>]*aria-label="[^"]+"', html)
    assert "<title>" in html and "<caption>" in html and 'scope="row"' in html
    assert 'name="course" value="TEST-ATGT"' in html
    assert 'id="trend-empty"' in html  # nothing locked yet
    assert 'id="people"' in html and TWELVE_DIGITS.search(html) is None
    # English: the same numbers, English separators
    english = page(client, "/units/00691/dashboard?lang=en")
    assert re.search(r'id="unit-rate">44.4%<', english)


def test_drill_down_to_a_class(client, monkeypatch, scenario):  # noqa: F811
    on_day(monkeypatch, BEFORE_DUE)
    login(client, scenario["officer"])
    school = page(client, "/units/FIG-S1/dashboard")
    assert re.search(r'id="unit-rate">60,0%<', school)
    assert child_order(school) == ["FIG-S1-A", "FIG-S1-B"]  # gaps 2 and 0
    assert 'href="/units/FIG-S1-A/dashboard"' in school
    klass = page(client, "/units/FIG-S1-A/dashboard")
    assert re.search(r'id="unit-rate">33,3%<', klass)
    assert 'id="children"' not in klass


def test_filter_by_course(client, monkeypatch, scenario):  # noqa: F811
    on_day(monkeypatch, BEFORE_DUE)
    login(client, scenario["officer"])
    html = page(client, "/units/00691/dashboard?course=TEST-ATGT")
    assert 'value="TEST-ATGT" checked' in html
    assert re.search(r'id="unit-rate">44,4%<', html)
    other = page(client, "/units/00691/dashboard?course=NOPE")
    assert re.search(r'id="unit-rate">–<', other)
    assert client.get("/units/00691/dashboard?course=" + "X" * 41).status_code == 422


def test_trend_from_snapshots(client, db, monkeypatch, scenario):  # noqa: F811
    on_day(monkeypatch, BEFORE_DUE)
    commune = find_unit_by_code("00691")

    def snapshot(period, version, figures):
        db.add(ReportSnapshot(public_id=f"s{period}{version}", unit_id=commune.id,
                              period=period, version=version, content_hash="0" * 64,
                              content={"unit": {"code": "00691"}, "period": period,
                                       "figures": figures, "children": []}))

    counts = {"expected": 10, "completed": 2, "in_progress": 1, "not_started": 7,
              "overdue": 0, "exempt": 0}
    snapshot("2026-03", 1, counts)
    snapshot("2026-03", 2, {**counts, "completed": 3, "not_started": 6})  # the correction
    snapshot("2026-04", 1, {**counts, "completed": 5, "not_started": 4})
    snapshot("2026-02", 1, {"expected": 3})  # unreadable counts: no point
    db.flush()
    login(client, scenario["officer"])
    html = page(client, "/units/00691/dashboard")
    assert 'id="trend-empty"' not in html
    assert '<svg class="trend"' in html and "<polyline" in html
    table = html[html.index('class="trend-table"'):]
    rows = re.findall(r'<th scope="row">([^<]+)</th><td class="num">([^<]+)</td>', table)
    assert rows[:2] == [("03/2026", "30,0%"), ("04/2026", "50,0%")]
    assert rows[2][1] == "44,4%" and len(rows) == 3


def test_suspicious_completions(db, monkeypatch, scenario):  # noqa: F811
    commune = find_unit_by_code("00691")
    found = suspicious_completions(commune)
    assert (found.total.fast, found.total.completions) == (3, 4)
    assert found.children["FIG-S1"].fast == 3 and found.children["FIG-S2"].fast == 0
    assert found.total.bunched == []  # 3 of 4 on one day is not more than 90%
    monkeypatch.setattr(suspicious, "BUNCH_MIN", 1)
    found = suspicious_completions(commune)
    assert found.children["FIG-S1"].bunched == [("TEST-ATGT", date(2026, 5, 10), 3)]
    # 17:30 UTC on 10 May is 00:30 on 11 May in Vietnam
    assert found.children["FIG-S2"].bunched == [("TEST-ATGT", date(2026, 5, 11), 1)]
    assert suspicious_completions(commune, ["NOPE"]).total.completions == 0


def test_suspicious_shown_for_a_commune_not_a_province(client, make, monkeypatch,
                                                       scenario):  # noqa: F811
    on_day(monkeypatch, BEFORE_DUE)
    login(client, scenario["officer"])
    html = page(client, "/units/00691/dashboard")
    total = html[html.index('id="suspicious-total"'):]
    assert total.startswith('id="suspicious-total">3 ')
    login(client, make.person(Role.OFFICER, find_unit_by_code("08")))
    province = page(client, "/units/08/dashboard")
    assert 'id="suspicious-total">— ' in province
    assert 'href="/units/00691/dashboard"' in province


def test_people_section_follows_the_policy(client, monkeypatch, scenario):  # noqa: F811
    on_day(monkeypatch, BEFORE_DUE)
    login(client, scenario["officer"])
    monkeypatch.setitem(policy.ROLE_PERMISSIONS, Role.OFFICER,
                        frozenset({policy.Permission.VIEW_UNIT}))
    html = page(client, "/units/00691/dashboard")
    assert 'id="people-h"' not in html
    assert client.get("/api/v1/units/00691/people").status_code == 404


def test_unit_names_are_escaped(client, make, monkeypatch, scenario):  # noqa: F811
    on_day(monkeypatch, BEFORE_DUE)
    school = make.unit("school", "00691", code="FIG-XSS", name=SCRIPT)
    make.unit("class", school, code="FIG-XSS-A", name="Lớp X")
    make.unit("class", school, code="FIG-XSS-B", name=SCRIPT)
    import_roster(None, "FIG-XSS", "x.csv", roster_csv(
        [("Người Thứ Mười Một", "008212000899", "Lớp X")]), dry_run=False)
    login(client, scenario["officer"])
    for url in ("/units/00691/dashboard", "/units/FIG-XSS/dashboard"):
        html = page(client, url)
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = page(client, "/units/00691/dashboard")
    svg = html[html.index('<tr data-code="FIG-XSS">'):]
    svg = svg[svg.index("<svg"):svg.index("</svg>")]
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert 'aria-label="&lt;script&gt;alert(1)&lt;/script&gt;' in svg
    school_page = page(client, "/units/FIG-XSS/dashboard")  # the empty class, listed apart
    assert 'href="/units/FIG-XSS-B/dashboard">&lt;script&gt;alert(1)&lt;/script&gt;</a>' in (
        school_page)


@pytest.mark.parametrize("code", ["08", "00691", "FIG-S1", "FIG-S2-C"])
def test_officer_of_another_province_gets_404(client, make, monkeypatch, scenario,  # noqa: F811
                                              code):
    on_day(monkeypatch, BEFORE_DUE)
    login(client, make.person(Role.OFFICER, find_unit_by_code("01")))
    assert client.get(f"/units/{code}/dashboard").status_code == 404


def test_school_admin_cannot_see_the_commune(client, make, monkeypatch, scenario):  # noqa: F811
    on_day(monkeypatch, BEFORE_DUE)
    login(client, make.person(Role.UNIT_ADMIN, scenario["s1"]))
    assert client.get("/units/00691/dashboard").status_code == 404
    assert client.get("/units/FIG-S2/dashboard").status_code == 404
    html = page(client, "/units/FIG-S1/dashboard")
    assert 'href="/units/FIG-S1-A/dashboard"' in html
    assert 'href="/units/00691/dashboard"' not in html


def test_sign_in_required(client, scenario):  # noqa: F811
    response = client.get("/units/00691/dashboard")
    assert response.status_code in (302, 401)


def test_unit_page_links_to_the_dashboard(client, make, scenario):  # noqa: F811
    login(client, scenario["officer"])
    assert "/units/08/dashboard" not in page(client, "/units/08")  # above the officer
    assert 'href="/units/00691/dashboard"' in page(client, "/units/00691")
    login(client, scenario["users"][1], level=1)
    assert 'id="unit-dashboard"' not in page(client, "/units/FIG-S1-A")
