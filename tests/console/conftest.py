"""The console's browser tier: the real platform (four services, PostgreSQL, broker), the console in
front of it, and Debian's Chromium driven by Playwright as a person would use it.

Each journey opens one or more :class:`Visita` (a person in her own browser context, logged in
through the login page) and calls :meth:`Visita.passo` after each step: it saves a screenshot under
``var/test/screenshots/<test>/`` and runs axe-core (vendored) on the page, failing on any serious or
critical WCAG 2.1 A/AA violation.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from ambiti_kit.testing.fixtures import ROOT, SERVICES, Platform, free_port

CHROMIUM = Path(os.environ.get("AMBITI_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "var" / "test" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
#: what the probe of this machine found Chromium needs headless, as root, on a closed network
CHROMIUM_ARGS = ["--lang=it-IT", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
TELEFONO = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
            "has_touch": True}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class Console:
    url: str
    platform: Platform
    log: Path


@pytest.fixture(scope="session")
def console(platform: Platform) -> Iterator[Console]:
    """The console process in front of the platform's four services."""
    from ambiti_cli.main import start_console, stop_processes

    log_dir = ROOT / "var" / "test" / "log" / f"{platform.infra.namespace.rstrip('_')}-console"
    log_dir.mkdir(parents=True, exist_ok=True)
    url, process = start_console(platform.infra.env(), {name: platform.url(name) for name in SERVICES},
                                 port=free_port(), log_dir=log_dir)
    try:
        yield Console(url, platform, log_dir / "console.log")
    finally:
        stop_processes([process])


@pytest.fixture(scope="session")
def playwright_() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_: Any) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.exit(f"Chromium not found at {CHROMIUM}: `make chromium` installs Debian's package (or set "
                    "AMBITI_CHROMIUM to its path). The browser tests never download a browser.", returncode=3)
    # Italian for the browser itself (with Debian's chromium-l10n): date fields show gg/mm/aaaa.
    env = {**os.environ, "LANG": "it_IT.UTF-8", "LANGUAGE": "it"}
    browser = playwright_.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, env=env)
    try:
        yield browser
    finally:
        browser.close()


class Inaccessibile(AssertionError):
    pass


@dataclass
class Visita:
    """One person in her own browser: a Playwright page plus screenshots and accessibility checks."""

    page: Any
    cartella: Path
    passi: list[str] = field(default_factory=list)

    def vai(self, path: str) -> Any:
        return self.page.goto(path)

    def passo(self, nome: str, *, accessibilita: bool = True) -> Path:
        """Screenshot the page as it is now (``NN-nome.png``) and check it with axe-core."""
        self.page.wait_for_load_state("load")
        self.passi.append(nome)
        self.cartella.mkdir(parents=True, exist_ok=True)
        file = self.cartella / f"{len(self.passi):02d}-{re.sub(r'[^a-z0-9]+', '-', nome.lower()).strip('-')}.png"
        self.page.screenshot(path=str(file), full_page=True)
        if accessibilita:
            self.accessibile(nome)
        return file

    def accessibile(self, nome: str = "") -> None:
        """axe-core on the page: no serious or critical violation of WCAG 2.1 A and AA."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE))
        risultato = self.page.evaluate(
            "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});"
            " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodi: v.nodes.slice(0, 5).map(n => n.target.join(' '))})); }", AXE_TAGS)
        gravi = [v for v in risultato if v["impact"] in ("serious", "critical")]
        if gravi:
            raise Inaccessibile(f"axe-core at step {nome!r} ({self.page.url}): "
                                + json.dumps(gravi, ensure_ascii=False, indent=1))

    def accedi(self, ruolo: str, ambito: str | None = None, *, regione: str | None = None,
               comune: str | None = None, soggetto: str | None = None) -> None:
        """Log in through the development login page, typing as a person does."""
        page = self.page
        page.goto("/accesso")
        page.get_by_role("combobox", name="Ruolo").select_option(ruolo)
        if ambito:
            page.get_by_label("Ambito (es. 15-S09)").fill(ambito)
        if regione:
            page.get_by_label("Regione (codice ISTAT, solo per il ruolo Regione)").fill(regione)
        if comune:
            page.get_by_label("Comune (codice ISTAT a 6 cifre, per Sindaci e assistenti sociali)").fill(comune)
        if soggetto:
            page.get_by_label("Utente (facoltativo)").fill(soggetto)
        page.get_by_role("button", name="Accedi").click()
        page.wait_for_url(lambda url: "/accesso" not in url)


@pytest.fixture
def persona(browser: Any, console: Console, request: pytest.FixtureRequest) -> Iterator[Callable[..., Visita]]:
    """``persona(ruolo, ambito, comune=..., telefono=True)``: a logged-in person in a fresh browser."""
    contesti: list[Any] = []
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)

    def apri(ruolo: str | None = None, ambito: str | None = None, *, regione: str | None = None,
             comune: str | None = None, soggetto: str | None = None, telefono: bool = False,
             nome: str | None = None) -> Visita:
        # bypass_csp lets the test inject axe-core; the console's own pages run under its CSP otherwise.
        opzioni = dict(TELEFONO) if telefono else {"viewport": {"width": 1280, "height": 900}}
        contesto = browser.new_context(base_url=console.url, locale="it-IT", timezone_id="Europe/Rome",
                                       bypass_csp=True, **opzioni)
        contesti.append(contesto)
        page = contesto.new_page()
        page.set_default_timeout(15_000)
        visita = Visita(page, SCREENSHOTS / test / (nome or ruolo or "anonimo"))
        if ruolo:
            visita.accedi(ruolo, ambito, regione=regione, comune=comune, soggetto=soggetto)
        return visita

    yield apri
    rapporto = getattr(request.node, "rapporto_chiamata", None)
    for contesto in contesti:
        if rapporto is not None and rapporto.failed:  # what each person saw when the test failed
            for i, page in enumerate(contesto.pages):
                cartella = SCREENSHOTS / test
                cartella.mkdir(parents=True, exist_ok=True)
                try:
                    page.screenshot(path=str(cartella / f"FALLITO-{id(contesto)}-{i}.png"), full_page=True)
                    (cartella / f"FALLITO-{id(contesto)}-{i}.html").write_text(page.content())
                except Exception:  # noqa: BLE001 - a page that cannot be captured must not hide the failure
                    pass
        contesto.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Keep the call's report on the test, so the ``persona`` fixture can capture pages when it failed."""
    report = yield
    if report.when == "call":
        item.rapporto_chiamata = report
    return report


@pytest.fixture
def nuovo_ambito() -> Callable[[str], str]:
    """A fresh tenant id in Region ``regione`` (default 15), so that each journey has its own Ambito."""
    return lambda regione="15": f"{regione}-T{uuid.uuid4().hex[:6].upper()}"
