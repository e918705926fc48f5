"""The widget in a real browser (headless Chromium) against the real stack:
one script tag on a tenant's page, an answer that streams in with its
sources, a conversation that survives a reload and a dropped connection,
no working widget on an origin the tenant does not allow, nothing from a
model or a document run as markup, a strict host CSP and hostile host CSS,
accessibility (axe-core, keyboard only), and the size of all it loads."""

import re
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser import (CuttingProxy, HostSite, chromium, event_source_ids,
                     network_log, wait_for)
from conftest import REPO, engine_log_events, engine_through, make_tenant

QUESTION = "How many vacation days do new employees get?"
TOKENS = ["Vacation ", "is ", "**twenty** ", "days ", "[1]."]
ANSWER = "Vacation is twenty days [1]."
AXE = REPO / "build" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "build" / "screenshots"
XSS_DOC = ("Relocation allowance: <img src=x onerror=\"window.__pwned=1\"> "
           "new employees moving for the job get a relocation allowance.")


@pytest.fixture(scope="module")
def upstream(stack, mock_upstream):
    with engine_through(stack, mock_upstream) as mock:
        yield mock


@pytest.fixture(scope="module")
def proxy(stack):
    p = CuttingProxy(stack.port)
    yield p
    p.stop()


@pytest.fixture(scope="module")
def hosts():
    allowed, other = HostSite(), HostSite()
    yield allowed, other
    allowed.stop()
    other.stop()


@pytest.fixture(scope="module")
def site(stack, hosts, tmp_path_factory):
    docs = tmp_path_factory.mktemp("docs")
    for f in (REPO / "demo" / "handbook").iterdir():
        (docs / f.name).write_text(f.read_text())
    (docs / "relocation.txt").write_text(XSS_DOC)
    tenant = make_tenant(stack, docs)
    stack.parley("tenant", "update", "--slug", tenant.slug,
                 "--allowed-origin", hosts[0].origin, "--json")
    pk = stack.parley("key", "create", "--tenant", tenant.slug, "--kind",
                      "publishable", "--json")["key"]
    return tenant, pk


@pytest.fixture
def driver():
    d = chromium()
    yield d
    d.quit()


def host_page(parley, site_key, head=""):
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>{head}</head>
<body><main><h1 id="headline">Welcome to the shop</h1>
<p id="copy">Boots, tents and stoves.</p></main>
<script src="{parley}/widget.js" data-site-key="{site_key}" async></script>
</body></html>"""


def shadow(driver, element_id):
    return driver.execute_script(
        "const host = document.querySelector('parley-widget');"
        "return host && host.shadowRoot.getElementById(arguments[0]);",
        element_id)


def open_widget(driver):
    launcher = wait_for(driver, "the launcher",
                        lambda d: shadow(d, "parley-launcher"))
    launcher.click()
    frame = wait_for(driver, "the frame", lambda d: shadow(d, "parley-frame"))
    driver.switch_to.frame(frame)
    return wait_for(driver, "the input",
                    lambda d: d.find_elements(By.ID, "input"))[0]


def answers(driver):
    return driver.find_elements(By.CSS_SELECTOR,
                                "#log .msg.assistant:not(.greeting)")


def watch_answer(driver, timeout=30, during=None):
    """Polls the last answer until it is done: (the distinct texts seen while
    it streamed, its final text, its final state)."""
    seen = []
    deadline = time.monotonic() + timeout
    wait_for(driver, "an answer", lambda d: answers(d))
    while time.monotonic() < deadline:
        state, text = driver.execute_script(
            "const all = document.querySelectorAll("
            "'#log .msg.assistant:not(.greeting)');"
            "const m = all[all.length - 1];"
            "const c = m.querySelector('.content').cloneNode(true);"
            "c.querySelectorAll('.typing').forEach(t => t.remove());"  # the dots
            "return [m.dataset.state, c.textContent];")
        if state == "streaming":
            if text and (not seen or seen[-1] != text):
                seen.append(text)
            if during:
                during(seen)
        else:
            return seen, text, state
        time.sleep(0.02)
    raise AssertionError(f"the answer did not finish: {seen[-1:]}")


def ask(driver, text):
    box = driver.find_element(By.ID, "input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def test_a_visitor_asks_and_sees_a_cited_answer_stream_in_that_survives_a_reload(
        stack, upstream, proxy, hosts, site, driver):
    upstream.reset(tokens=TOKENS, delay=0.3)
    _, pk = site
    driver.get(hosts[0].page("/", host_page(proxy.url, pk)))
    open_widget(driver)
    ask(driver, QUESTION)
    seen, text, state = watch_answer(driver)
    assert state == "done"
    assert text == ANSWER
    assert len(seen) >= 2 and all(ANSWER.startswith(s) for s in seen[:-1])
    last = answers(driver)[-1]
    assert last.find_element(By.CSS_SELECTOR, "strong").text == "twenty"
    sources = last.find_elements(By.CSS_SELECTOR, ".citations li summary")
    assert sources and "time off" in sources[0].text.lower()
    sources[0].click()  # its excerpt opens
    assert "vacation" in last.find_element(
        By.CSS_SELECTOR, ".citations li .snippet").text.lower()
    # where in its document the passage is: the handbook page's section
    assert last.find_element(
        By.CSS_SELECTOR, ".citations li .where").text == "Time off and leave \u203a Vacation days"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.switch_to.default_content()
    driver.save_screenshot(str(SCREENSHOTS / "widget-open.png"))

    driver.refresh()
    open_widget(driver)
    wait_for(driver, "the conversation again",
             lambda d: [m.text for m in d.find_elements(
                 By.CSS_SELECTOR, "#log .msg.user .content")] == [QUESTION])
    assert answers(driver)[-1].find_element(By.CSS_SELECTOR,
                                            ".content").text == ANSWER
    assert len(upstream.requests) == 1


def test_an_origin_the_tenant_does_not_allow_gets_no_working_widget(
        stack, upstream, proxy, hosts, site, driver):
    _, pk = site
    before = len(engine_log_events(stack, "widget_session"))
    # the loader on a page of another origin
    driver.get(hosts[1].page("/", host_page(proxy.url, pk)))
    launcher = wait_for(driver, "the launcher",
                        lambda d: shadow(d, "parley-launcher"))
    launcher.click()
    driver.switch_to.frame(wait_for(driver, "the frame",
                                    lambda d: shadow(d, "parley-frame")))
    time.sleep(1)
    assert driver.find_elements(By.ID, "input") == []
    driver.switch_to.default_content()
    # a page that lies about its origin gets a page the browser will not frame
    forged = (f"{proxy.url}/widget/v1/frame?site_key={pk}&origin="
              f"{hosts[0].origin}")
    driver.get(hosts[1].page("/forged", f"""<!doctype html><html lang="en">
<head><meta charset="utf-8"><title>Forged</title></head>
<body><iframe id="f" title="chat" src="{forged}"></iframe></body></html>"""))
    driver.switch_to.frame(driver.find_element(By.ID, "f"))
    time.sleep(1)
    assert driver.find_elements(By.ID, "input") == []
    assert driver.execute_script("return location.href").startswith(
        "chrome-error://")
    assert len(engine_log_events(stack, "widget_session")) == before


HOSTILE_CSS = """<style>
* { font-family: monospace !important; color: #c00 !important;
    background: #ff0 !important; }
button, iframe { display: none !important; opacity: 0 !important; }
div { position: static !important; }
</style>"""


@pytest.mark.parametrize("kind", ["strict csp", "hostile css"])
def test_the_widget_works_on_strict_and_hostile_host_pages(
        stack, upstream, proxy, hosts, site, driver, kind):
    upstream.reset(tokens=TOKENS)
    _, pk = site
    if kind == "strict csp":
        # exactly what the README tells the operator to add
        headers = {"Content-Security-Policy":
                   f"default-src 'self'; script-src 'self' {proxy.url}; "
                   f"frame-src {proxy.url}"}
        page = host_page(proxy.url, pk)
    else:
        headers, page = {}, host_page(proxy.url, pk, HOSTILE_CSS)
    bare = hosts[0].page(f"/bare-{kind[0]}", page.replace("<script src", "<!--")
                         .replace("async></script>", "-->"), headers)
    driver.get(bare)
    style_of = ("const s = getComputedStyle(document.getElementById("
                "'headline')); return [s.fontFamily, s.color, s.fontSize, "
                "s.margin, getComputedStyle(document.body).margin];")
    host_style = driver.execute_script(style_of)
    driver.get(hosts[0].page(f"/{kind[0]}", page, headers))
    open_widget(driver)
    ask(driver, QUESTION)
    assert watch_answer(driver)[1:] == (ANSWER, "done")
    driver.switch_to.default_content()
    assert driver.execute_script(style_of) == host_style
    launcher = shadow(driver, "parley-launcher")
    assert launcher.is_displayed()
    violations = [e["message"] for e in driver.get_log("browser")
                  if "Content Security Policy" in e["message"]]
    assert violations == []


def test_markup_from_a_document_or_the_model_is_shown_as_text(
        stack, upstream, proxy, hosts, site, driver):
    payload = ["<script>window.__pwned=2</script> ",
               "<img src=x onerror=\"window.__pwned=3\"> ", "[1]"]
    upstream.reset(tokens=payload)
    _, pk = site
    driver.get(hosts[0].page("/", host_page(proxy.url, pk)))
    open_widget(driver)
    ask(driver, "Do new employees get a relocation allowance?")
    _, text, state = watch_answer(driver)
    assert state == "done"
    assert text == "".join(payload).strip()
    last = answers(driver)[-1]
    assert last.find_elements(By.CSS_SELECTOR, "script, img") == []
    assert any("<img src=x" in s.get_attribute("textContent")
               for s in last.find_elements(By.CSS_SELECTOR, ".citations li"))
    assert driver.execute_script("return window.__pwned") is None
    driver.switch_to.default_content()
    assert driver.execute_script("return window.__pwned") is None


def test_a_dropped_connection_resumes_the_answer_exactly(
        stack, upstream, proxy, hosts, site, driver):
    tokens = [f"part{i} " for i in range(12)]
    upstream.reset(tokens=tokens, delay=0.4)
    _, pk = site
    driver.get(hosts[0].page("/", host_page(proxy.url, pk)))
    open_widget(driver)
    ask(driver, QUESTION)
    cut = []

    def drop_once(seen):
        if not cut and len(seen) >= 3:
            cut.append(proxy.cut())
    _, text, state = watch_answer(driver, timeout=40, during=drop_once)
    assert cut and cut[0] > 0, "nothing was cut"
    assert state == "done"
    assert text == "".join(tokens)  # as uninterrupted: nothing lost or repeated
    assert len(upstream.requests) == 1
    ids = event_source_ids(driver)  # both connections' events, as received
    assert ids == list(range(1, len(ids) + 1)) and len(ids) >= len(tokens)


def run_axe(driver):
    driver.execute_script(AXE.read_text())
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => [v.id, v.impact, v.nodes.length])));")


def test_axe_finds_nothing_serious_with_the_widget_closed_or_open(
        stack, upstream, proxy, hosts, site, driver):
    upstream.reset(tokens=TOKENS)
    _, pk = site
    driver.get(hosts[0].page("/", host_page(proxy.url, pk)))
    wait_for(driver, "the launcher", lambda d: shadow(d, "parley-launcher"))
    assert run_axe(driver) == []
    open_widget(driver)
    ask(driver, QUESTION)
    assert watch_answer(driver)[2] == "done"
    assert run_axe(driver) == []  # the frame, on its own origin
    driver.switch_to.default_content()
    assert run_axe(driver) == []  # the host page with the widget open


def test_the_keyboard_alone_drives_the_widget(stack, upstream, proxy, hosts,
                                               site, driver):
    upstream.reset(tokens=TOKENS)
    _, pk = site
    driver.get(hosts[0].page("/", host_page(proxy.url, pk)))
    wait_for(driver, "the launcher", lambda d: shadow(d, "parley-launcher"))
    keys = ActionChains(driver)
    keys.send_keys(Keys.TAB).perform()
    focused = "return document.activeElement.shadowRoot && " \
              "document.activeElement.shadowRoot.activeElement.id"
    assert driver.execute_script(focused) == "parley-launcher"
    keys.send_keys(Keys.ENTER).perform()
    driver.switch_to.frame(wait_for(driver, "the frame",
                                    lambda d: shadow(d, "parley-frame")))
    wait_for(driver, "focus in the input", lambda d: d.execute_script(
        "return document.activeElement.id") == "input")
    keys = ActionChains(driver)
    keys.send_keys("first line").key_down(Keys.SHIFT).send_keys(Keys.ENTER)
    keys.key_up(Keys.SHIFT).send_keys("vacation days?").perform()
    assert driver.find_element(By.ID, "input").get_property("value") == \
        "first line\nvacation days?"
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    assert watch_answer(driver)[2] == "done"
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    driver.switch_to.default_content()
    wait_for(driver, "focus back on the launcher",
             lambda d: d.execute_script(focused) == "parley-launcher")
    assert not shadow(driver, "parley-frame").is_displayed()


def test_everything_the_widget_loads_fits_in_30_kb(stack, upstream, proxy,
                                                  hosts, site, driver):
    upstream.reset(tokens=TOKENS)
    _, pk = site
    driver.get(hosts[0].page("/", host_page(proxy.url, pk)))
    open_widget(driver)
    ask(driver, QUESTION)
    assert watch_answer(driver)[2] == "done"
    loaded = [(url, kind, size) for url, kind, size in network_log(driver)
              if url.startswith(proxy.url)
              and kind in ("Document", "Script", "Stylesheet", "Image", "Font")]
    names = {url.split("?")[0].removeprefix(proxy.url) for url, _, _ in loaded}
    assert {"/widget.js", "/widget/v1/frame", "/widget/v1/assets/frame.js",
            "/widget/v1/assets/frame.css"} <= names
    total = sum(size for _, _, size in loaded)
    print(f"widget assets: {total} bytes on the wire: {loaded}")
    assert total <= 30 * 1024


def test_on_a_narrow_screen_the_chat_fills_it(stack, upstream, proxy, hosts,
                                              site, driver):
    _, pk = site
    driver.set_window_size(375, 720)
    driver.get(hosts[0].page("/", host_page(proxy.url, pk)))
    open_widget(driver)
    driver.switch_to.default_content()
    wait_for(driver, "the panel's opening animation to end", lambda d:
             d.execute_script("return document.querySelector('parley-widget')"
                              ".shadowRoot.getAnimations().length === 0"))
    frame = shadow(driver, "parley-frame").rect
    width, height = driver.execute_script(
        "return [innerWidth, innerHeight]")
    assert (frame["x"], frame["y"]) == (0, 0)
    assert (frame["width"], frame["height"]) == (width, height)


def test_a_failing_model_and_a_rate_limit_are_told_plainly(
        stack, upstream, proxy, hosts, driver):
    """Never a silent failure or an endless spinner: the provider failing
    ends the answer with its message; the tenant's plan refusing a message
    says when to try again."""
    tenant = make_tenant(stack, REPO / "demo" / "handbook", rpm="4", burst="1")
    stack.parley("tenant", "update", "--slug", tenant.slug,
                 "--allowed-origin", hosts[0].origin, "--json")
    pk = stack.parley("key", "create", "--tenant", tenant.slug, "--kind",
                      "publishable", "--json")["key"]
    upstream.reset(mode="http_error", status=503)
    driver.get(hosts[0].page("/limited", host_page(proxy.url, pk)))
    open_widget(driver)
    ask(driver, QUESTION)
    _, _, state = watch_answer(driver)
    assert state == "error"
    status = driver.find_element(By.ID, "status").text
    assert "language model provider" in status, status
    upstream.reset(tokens=TOKENS)
    notices = []
    for _ in range(6):  # the plan's burst is soon spent
        ask(driver, QUESTION)
        time.sleep(0.5)
        notices = [n.text for n in driver.find_elements(By.CSS_SELECTOR,
                                                        "#log .notice")]
        if any("too quickly" in n for n in notices):
            break
        wait_for(driver, "the answer's end", lambda d: d.execute_script(
            "return !document.querySelector('[data-state=streaming]')"))
    assert any(re.fullmatch(r"You're sending messages too quickly\. Try again "
                            r"in \d+ seconds?\.", n) for n in notices), notices


def error_a_visitor_reads(stack, upstream, proxy, hosts, driver, path,
                          tenant_settings, prepare=lambda tenant: None):
    """A visitor's question on the site of a new tenant (updated with
    `tenant_settings`, then `prepare`d) whose answer ends in an error: the
    words the widget shows. The page is kept as a screenshot."""
    tenant = make_tenant(stack, REPO / "demo" / "handbook")
    stack.parley("tenant", "update", "--slug", tenant.slug, "--allowed-origin",
                 hosts[0].origin, *tenant_settings, "--json")
    prepare(tenant)
    pk = stack.parley("key", "create", "--tenant", tenant.slug, "--kind",
                      "publishable", "--json")["key"]
    upstream.reset(tokens=TOKENS)
    driver.get(hosts[0].page(path, host_page(proxy.url, pk)))
    open_widget(driver)
    ask(driver, QUESTION)
    _, _, state = watch_answer(driver)
    assert state == "error"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"widget{path.replace('/', '-')}.png"))
    return driver.find_element(By.ID, "status").text


def test_a_tenant_over_its_budget_is_told_plainly(stack, upstream, proxy, hosts,
                                                  driver):
    """A visitor reads that the assistant reached its usage limit, not the
    developer's error message with its request id."""
    status = error_a_visitor_reads(stack, upstream, proxy, hosts, driver,
                                   "/over-budget", ["--budget-tokens-day", "10"])
    assert status == "This assistant has reached its usage limit. Please try again later."
    assert upstream.requests == []


def test_a_tenant_key_that_cannot_be_used_is_not_explained_to_visitors(
        stack, upstream, proxy, hosts, driver):
    """What the operator must mend about the tenant's provider key is for
    the operator; the visitor reads that the assistant is unavailable, and
    no other key is used instead."""
    def unusable_key(tenant):
        stack.parley("credential", "set", "--tenant", tenant.slug,
                     "--provider", "openai", "--json",
                     input="sk-tenant-browser-0123456789\n")
        stack.psql("UPDATE provider_credentials SET key_id = 'retired' "
                   f"WHERE tenant_id = '{tenant.id}'", db="parley")

    status = error_a_visitor_reads(stack, upstream, proxy, hosts, driver,
                                   "/unusable-key", [], unusable_key)
    assert status.startswith("The assistant is unavailable right now."), status
    assert "credential" not in status
    assert upstream.requests == []
