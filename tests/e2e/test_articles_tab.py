"""The Articles tab in Debian chromium: a feed added, refreshed and listed in the Feeds panel, its article
in the list marked new, found by title and deleted; bad input gives messages."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow  # the real model, servers or a browser

BODY = "The Quillby lifeboat crew rescued four kayakers off Saltness Point on Friday after a sudden squall."


def wait_text(ui: Any, selector: str, text: str, timeout: float = 90_000) -> str:
    ui.page.wait_for_function(
        "([sel, want]) => { const e = document.querySelector(sel); return e && e.innerText.includes(want); }",
        arg=[selector, text], timeout=timeout,
    )
    return ui.page.locator(selector).inner_text()


def cell(ui: Any, row: int, column: int) -> Any:
    """A cell of the article list (Gradio's table is a grid of divs)."""
    return ui.page.locator(f'#article-table [data-testid="cell-{row}-{column}"]')


def test_a_feed_added_in_the_panel_brings_an_article_that_can_be_found_and_deleted(ui: Any, site: Any) -> None:
    site.page("lifeboat", "Lifeboat", BODY)
    url = site.feed([("lifeboat", "Quillby lifeboat rescues four kayakers")], title="Saltness Courier")
    ui.tab("Articles")
    ui.page.locator("#feed-url textarea, #feed-url input").first.fill("ftp://example.org/feed")
    ui.page.locator("#feed-add").click()
    assert "not a feed address" in wait_text(ui, "#feeds-status", "not a feed address")

    ui.page.locator("#feed-url textarea, #feed-url input").first.fill(url)
    ui.page.locator("#feed-add").click()
    wait_text(ui, "#feeds-status", "Subscribed to")
    wait_text(ui, "#feed-table", url)
    ui.page.locator("#feed-refresh").click()
    wait_text(ui, "#article-table", "Quillby lifeboat rescues four kayakers")  # by "Refresh now" or the watcher
    table = wait_text(ui, "#feed-table", "Saltness Courier")
    assert "never" not in table  # its last success
    ui.screenshot("feeds-panel.png", full_page=True)

    # A new visit from this browser: the article arrived after the last one, so it is marked new.
    ui.page.reload()
    ui.tab("Articles")
    assert "arrived since your last visit" in wait_text(ui, "#arrivals", "since your last visit")
    wait_text(ui, "#feed-table", "Saltness Courier")  # the panel shows the feeds on a new page too
    ui.page.locator("#title-search textarea, #title-search input").first.fill("lifeboat kayakers")
    ui.page.wait_for_function(  # the search has run: one row left
        "() => document.querySelectorAll('#article-table [role=\"gridcell\"][data-col=\"1\"]').length === 1")
    assert "Quillby" in cell(ui, 0, 1).inner_text()
    assert cell(ui, 0, 0).inner_text().strip() == "new"
    ui.screenshot("articles-list.png", full_page=True)

    cell(ui, 0, 1).click()
    selected = ui.page.locator("#selected-article textarea, #selected-article input").first
    ui.page.wait_for_function("e => e.value.endsWith('/lifeboat.html')", arg=selected.element_handle())
    ui.page.locator("#delete-article").click()
    assert "Deleted" in wait_text(ui, "#list-status", "Deleted")
    ui.page.wait_for_function("() => !document.querySelector('#article-table').innerText.includes('Quillby')")

    # An article that is not an upload or a feed's is not deleted from here.
    ui.page.locator("#title-search textarea, #title-search input").first.fill("lighthouse")
    ui.page.wait_for_function("() => document.querySelector('#article-table').innerText.includes('Glenmoor')"
                              " && !document.querySelector('#article-table').innerText.includes('Ostwick')")
    cell(ui, 0, 1).click()
    ui.page.wait_for_function("e => e.value.endsWith('lighthouse.txt')", arg=selected.element_handle())
    ui.page.locator("#delete-article").click()
    assert "not an uploaded or feed article" in wait_text(ui, "#list-status", "not an uploaded")
    assert "Traceback" not in ui.page.content() and not ui.errors
