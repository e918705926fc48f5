"""What the widget's browser tests drive: headless Chromium (Debian's, through
chromedriver), host pages of a tenant's website served on origins of their
own, and a proxy in front of Parley that can cut every connection at once
(a visitor's network dropping mid-answer)."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from relay import copy_until_closed, shut

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def chromium():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    # the network log (the size budget) and the console (CSP violations)
    options.set_capability("goog:loggingPrefs",
                           {"performance": "ALL", "browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_for(driver, what, predicate, timeout=20):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(
        lambda d: predicate(d), message=f"waiting for {what}")


class HostSite:
    """A tenant's website: pages by path, each with its own headers."""

    def __init__(self):
        self.pages = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                if path not in site.pages:
                    self.send_error(404)
                    return
                headers, body = site.pages[path]
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def page(self, path, body, headers=None):
        self.pages[path] = (headers or {}, body)
        return self.origin + path

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class CuttingProxy:
    """TCP in front of nginx; cut() closes every open connection, as a
    network drop would, and new connections work again at once."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.lock = threading.Lock()
        self.open = set()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b),
                                 daemon=True).start()

    def _pipe(self, src, dst):
        copy_until_closed(src, dst)
        with self.lock:
            self.open.discard(src)

    def cut(self):
        with self.lock:
            victims = list(self.open)
        for s in victims:
            shut(s)
        return len(victims)

    def stop(self):
        self.listener.close()
        self.cut()


def network_log(driver):
    """[(url, resource type, bytes received)] of every finished request since
    the last call, from Chromium's own performance log."""
    sent, done = {}, {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            sent[params["requestId"]] = (params["request"]["url"],
                                         params.get("type", ""))
        elif message["method"] == "Network.loadingFinished":
            done[params["requestId"]] = params["encodedDataLength"]
    return [(*sent[i], size) for i, size in done.items() if i in sent]


def event_source_ids(driver):
    """The ids of the server-sent events Chromium received since the last
    read of its performance log, in order, over every connection."""
    ids = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.eventSourceMessageReceived":
            ids.append(int(message["params"]["eventId"]))
    return ids
