"""The GraphiQL page renders in a real browser with no network but the server's own:
headless Chromium, every other host unresolvable, must show GraphiQL's editor rather
than "Loading..." (which is all a page loading its scripts from a CDN shows offline)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.service.test_two_servers import free_port

ROOT = Path(__file__).resolve().parents[2]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def chromium() -> str:
    found = next((path for path in map(shutil.which, BROWSERS) if path), None)
    if found is None:  # failed, never skipped: as with Prometheus, a missing tool is not a pass
        pytest.fail("no Chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
    return found


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SLOGOV_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'g.db'}",
           "SLOGOV_GRAPHIQL": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            assert proc.poll() is None, "the server exited"
            try:
                if httpx.get(url + "/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the server never became ready")
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def test_graphiql_renders_with_no_network_but_the_server(server, tmp_path):
    browser = chromium()
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}",
         # Every host name but the server's address fails to resolve: a CDN is unreachable.
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         "--virtual-time-budget=15000", "--dump-dom", server + "/graphql"],
        capture_output=True, text=True, timeout=120,
    ).stdout
    assert "Loading..." not in dom
    for element in ("graphiql-container", "graphiql-query-editor", "graphiql-execute-button", "graphiql-response"):
        assert f'class="{element}' in dom, element
