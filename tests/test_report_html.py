"""The HTML report: one self-contained, inert page (no script, no fetch, every string escaped) that a real
browser renders with its chart."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tui.domain.bookmarks import Bookmark
from tui.domain.report import build_report, render_html

try:
    from tests.test_report import DEMO, HOSTILE_CALL, HOSTILE_CODE, collect, write_capture
    from tests.test_web_browser import Chromium, png_colours, require_chromium
except ImportError:  # pytest's rootdir import mode without the checkout on sys.path
    from test_report import DEMO, HOSTILE_CALL, HOSTILE_CODE, collect, write_capture  # type: ignore[no-redef]
    from test_web_browser import Chromium, png_colours, require_chromium  # type: ignore[no-redef]

#: The only tags the report's own template uses; anything else would have come from a feed.
OWN_TAGS = {"html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "b", "div", "span",
            "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "footer", "svg", "g", "line", "rect",
            "text", "i"}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "incident.jsonl"
    write_capture(path)
    marks = [Bookmark(seq=5, ts=1752487224.0, vendor="acs", code="0", name="</td><iframe src=//x>",
                      note="<a href='javascript:alert(1)'>click</a> \" ' & <svg onload=alert(2)>", created=1.0)]
    report = build_report(collect(path), marks, title="<title>Outage</title> & more", samples=50, top=30,
                          source_name="<img src=x onerror=alert(3)>")
    return report, render_html(report)


def test_html_is_self_contained_and_inert(hostile_report):
    report, page = hostile_report
    parser = Tags()
    parser.feed(page)
    assert parser.tags <= OWN_TAGS, parser.tags - OWN_TAGS
    # No attribute that could load or run anything; no event handlers.
    assert not parser.attrs & {"src", "href", "srcset", "action", "formaction", "data", "background"}
    assert not any(a.startswith("on") for a in parser.attrs)
    lowered = page.lower()
    assert "<script" not in lowered and "javascript:" not in lowered.replace("javascript:alert(1)", "")
    assert "@import" not in lowered and "url(" not in lowered
    # The only URL is the SVG namespace (an identifier, never fetched).
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_hostile_text_is_shown_literally(hostile_report):
    report, page = hostile_report
    parser = Tags()
    parser.feed(page)
    text = "".join(parser.text)
    for shown in (HOSTILE_CALL, "? " + HOSTILE_CODE, "<img src=x onerror=alert(3)>",
                  "<a href='javascript:alert(1)'>click</a> \" ' & <svg onload=alert(2)>", "<title>Outage</title> & more"):
        assert shown in text, shown
    assert "\x1b" not in page and "\u202e" not in page


async def test_html_report_renders_in_chromium(tmp_path, hostile_report):
    """Open the report file in headless Chromium: nothing is fetched, no script runs, the chart is drawn,
    and the screenshot is not blank."""
    exe = require_chromium()
    report, page = hostile_report
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    await _render_and_check(exe, path, tmp_path, expect=["SERVER_INTERNAL_ERROR", HOSTILE_CALL])


@pytest.mark.skipif(not DEMO.exists(), reason="fixtures/demo.jsonl is not in this checkout")
async def test_demo_report_renders_in_chromium(tmp_path):
    """The report of the demo capture, written by the CLI, as someone opening the file would see it."""
    exe = require_chromium()
    try:
        from tests.test_report import cli
    except ImportError:
        from test_report import cli  # type: ignore[no-redef]
    out = tmp_path / "demo-report.html"
    cli("report", str(DEMO), "-o", str(out))
    await _render_and_check(exe, out, tmp_path, expect=["Abnormal disconnects over time", "What the top reasons mean"])


async def _render_and_check(exe: str, path: Path, tmp_path: Path, expect: list[str]) -> None:
    async with Chromium(exe, tmp_path / "profile", 1280, 1000) as browser:
        await browser.send("Network.enable")
        await browser.navigate(path.as_uri())
        await browser.wait_for("document.readyState === 'complete'")
        text = await browser.evaluate("document.body.innerText")
        for needle in expect:
            assert needle in text, needle
        bars = await browser.evaluate("document.querySelectorAll('svg rect').length")
        assert bars > 20
        assert await browser.evaluate("document.scripts.length") == 0
        png = await browser.screenshot()
        requested = [e["params"]["request"]["url"] for e in browser.events
                     if e.get("method") == "Network.requestWillBeSent"]
    (tmp_path / f"{path.stem}.png").write_bytes(png)
    assert requested == [path.as_uri()], requested  # the page itself, nothing else
    width, height, colours = png_colours(png)
    assert (width, height) == (1280, 1000)
    assert colours > 200, f"screenshot looks blank ({colours} colours): {tmp_path / (path.stem + '.png')}"
