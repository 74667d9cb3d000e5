"""Test helper for the kit's list conventions: walk a list page by page, checking the links."""

from __future__ import annotations

from typing import Any, Callable


def every_page(get: Callable[[dict[str, Any]], Any], limite: int) -> tuple[list[dict[str, Any]], int]:
    """All items of a list and how many pages it took; ``get(params)`` sends one request.

    Each page must answer 200 with ``elementi`` and ``successivo``; a page with a next one must
    carry ``Link: <…dopo=<successivo>…limite=<limite>…>; rel="next"``, the last page none.
    """
    items: list[dict[str, Any]] = []
    cursor, pages = None, 0
    while True:
        r = get({"limite": limite, **({"dopo": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["elementi"]
        pages += 1
        cursor = page["successivo"]
        if cursor is None:
            assert "link" not in r.headers, r.headers["link"]
            return items, pages
        link = r.headers["link"]
        assert link.endswith('; rel="next"') and f"dopo={cursor}" in link and f"limite={limite}" in link, link
