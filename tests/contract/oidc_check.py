#!/usr/bin/env python3
"""End-to-end check of sign-in with OpenID Connect against a real OpenID provider.

Starts `dma serve` (--bin) on a fresh SQLite file and a free port with DMA_DEMO=true and the
DMA_OIDC_* settings pointing at tests/oidc/provider.mjs (oidc-provider 9) on another free port,
then walks the authorisation code flow over HTTP as a browser would, one cookie jar per person:
the service's sign-in page, /app/oidc/start, the provider's login form and consent, the callback,
and the pages behind it. Checks:
  - with the provider down, /app/oidc/start answers 503 and the service keeps running; once the
    provider is up, the next attempt works (discovery is retried);
  - the redirect to the provider asks for S256 PKCE, state, nonce, the configured scopes and the
    service's callback;
  - analyst1 (role in the ID token) reaches /app, sees the rounds list and is named in the header;
  - submitter1 (role and orgs from userinfo only) is refused a national page (403), reads its own
    organisation (200) and not another (403);
  - norole1 is refused with a 403 page, and no session works afterwards;
  - a callback with a wrong state is refused (403), and the right one is then refused too (the
    pending sign-in was spent); a callback without state is a 400; replaying a used callback is
    refused and leaves the session as it was;
  - signing out (POST /app/sign-out with the page's csrf_token) ends the session.

Run: tests/contract/oidc_check.sh (installs the provider with npm ci), or
     python3 tests/contract/oidc_check.py --bin target/debug/dma
The last line is "oidc_check: N checks passed, M failed"; exit 1 on any failure.
"""
import argparse
import html
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROVIDER_DIR = os.path.join(ROOT, "tests", "oidc")
CLIENT_ID = "dma-web"
CLIENT_SECRET = "oidc-check-client-secret-0123456789"
OWN_ORG = "RGT"
OTHER_ORG = "R0A"

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"  ok   {name}")
    else:
        failed += 1
        print(f"  FAIL {name}{': ' + detail if detail else ''}")
    return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Browser:
    """A cookie jar and no automatic redirects: each step of the flow is seen and checked."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def request(self, method, url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.headers, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode("utf-8", "replace")

    def get(self, url):
        return self.request("GET", url)

    def post(self, url, form):
        return self.request("POST", url, form)


def wait_until(what, probe, proc, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            if probe():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer within {seconds} s")


class Flow:
    def __init__(self, service, provider):
        self.service = service
        self.provider = provider

    def authorize(self, browser, login, next_path="/app"):
        """From the service's start to the provider's redirect back: the callback URL (unvisited)."""
        status, headers, _ = browser.get(self.service + "/app/oidc/start?" + urllib.parse.urlencode({"next": next_path}))
        if status != 303:
            raise RuntimeError(f"/app/oidc/start answered {status}")
        url = headers["Location"]
        for _ in range(20):
            if url.startswith(self.service + "/app/oidc/callback"):
                return url
            if not url.startswith(self.provider):
                raise RuntimeError(f"redirected outside the provider: {url}")
            status, headers, body = browser.get(url)
            if status in (302, 303):
                url = urllib.parse.urljoin(url, headers["Location"])
                continue
            if status != 200:
                raise RuntimeError(f"provider answered {status} at {url}: {body[:300]}")
            form = re.search(r'<form[^>]*action="([^"]+)"', body)
            prompt = re.search(r'name="prompt" value="([^"]+)"', body)
            if not form or not prompt:
                raise RuntimeError(f"no form at {url}: {body[:300]}")
            fields = {"prompt": prompt.group(1)}
            if fields["prompt"] == "login":
                fields.update(login=login, password="any")
            status, headers, body = browser.post(urllib.parse.urljoin(url, html.unescape(form.group(1))), fields)
            if status not in (302, 303):
                raise RuntimeError(f"provider answered {status} to the {fields['prompt']} form: {body[:300]}")
            url = urllib.parse.urljoin(url, headers["Location"])
        raise RuntimeError("too many redirects at the provider")

    def sign_in(self, browser, login, next_path="/app"):
        callback = self.authorize(browser, login, next_path)
        status, headers, body = browser.get(callback)
        return callback, status, headers, body


def csrf_token(body):
    m = re.search(r'name="csrf_token" value="([^"]+)"', body)
    return m.group(1) if m else None


def run(binary):
    workdir = tempfile.mkdtemp(prefix="oidccheck-")
    service_port, provider_port = free_port(), free_port()
    service = f"http://127.0.0.1:{service_port}"
    provider = f"http://127.0.0.1:{provider_port}"
    procs = []

    def stop_all():
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def on_signal(signum, _frame):
        stop_all()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DMA_") and k != "DATABASE_URL"}
        env.update(
            DATABASE_URL=os.path.join(workdir, "dma.sqlite"), DMA_DATA_DIR=workdir,
            DMA_BIND=f"127.0.0.1:{service_port}", DMA_PUBLIC_URL=service,
            DMA_JWT_SECRET="oidc-check-secret-" + "x" * 32, DMA_DEMO="true",
            DMA_RATE_LIMIT_PER_SECOND="0", DMA_ANON_RATE_LIMIT_PER_SECOND="0", DMA_RATE_LIMIT_DELAY_MS="0",
            DMA_OIDC_ISSUER=provider, DMA_OIDC_CLIENT_ID=CLIENT_ID, DMA_OIDC_CLIENT_SECRET=CLIENT_SECRET,
            DMA_OIDC_SCOPES="openid profile dma", RUST_LOG="warn")
        service_log = open(os.path.join(workdir, "service.log"), "wb")
        procs.append(subprocess.Popen([binary, "serve"], env=env, stdout=service_log, stderr=subprocess.STDOUT))
        wait_until("the service", lambda: Browser().get(service + "/health/live")[0] == 200, procs[0])

        print("provider down")
        b = Browser()
        status, _, body = b.get(service + "/app/oidc/start?next=/app")
        check("start with the provider down is a 503 page", status == 503 and "<html" in body.lower(), f"{status}")
        check("the service keeps running", b.get(service + "/health/live")[0] == 200)

        provider_log = open(os.path.join(workdir, "provider.log"), "wb")
        penv = dict(os.environ, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=CLIENT_SECRET,
                    OIDC_REDIRECT_URI=service + "/app/oidc/callback")
        procs.append(subprocess.Popen(["node", os.path.join(PROVIDER_DIR, "provider.mjs"), str(provider_port)],
                                      env=penv, stdout=provider_log, stderr=subprocess.STDOUT))
        wait_until("the provider", lambda: Browser().get(provider + "/.well-known/openid-configuration")[0] == 200,
                   procs[1], 60)
        flow = Flow(service, provider)

        print("analyst1")
        b = Browser()
        status, _, body = b.get(service + "/app/sign-in?next=/app")
        check("the sign-in page offers the OIDC button", status == 200 and "/app/oidc/start?next=" in body
              and 'data-testid="oidc-sign-in"' in body, f"{status}")
        status, headers, _ = b.get(service + "/app/oidc/start?next=/app")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(headers.get("Location", "")).query)
        check("start redirects (303) to the provider's authorisation endpoint",
              status == 303 and headers.get("Location", "").startswith(provider + "/auth?"), f"{status}")
        check("the request has S256 PKCE, state, nonce, scopes and the callback",
              q.get("code_challenge_method") == ["S256"] and len(q.get("code_challenge", [""])[0]) >= 43
              and q.get("state") and q.get("nonce") and q.get("client_id") == [CLIENT_ID]
              and q.get("response_type") == ["code"]
              and set(q.get("scope", [""])[0].split()) == {"openid", "profile", "dma"}
              and q.get("redirect_uri") == [service + "/app/oidc/callback"], str(q))
        callback, status, headers, body = flow.sign_in(b, "analyst1", "/app/rounds/2025-26")
        check("analyst1's callback redirects to the page asked for",
              status == 303 and headers.get("Location") == "/app/rounds/2025-26", f"{status} {headers.get('Location')}")
        status, _, body = b.get(service + "/app")
        check("analyst1 sees the rounds list", status == 200 and "Rounds" in body and "/app/rounds/" in body, f"{status}")
        check("the header names analyst1 and the role", "oidc:analyst1 (analyst)" in body)
        status, _, _ = b.get(callback)
        check("replaying the used callback is refused", status == 403, f"{status}")
        status, _, body = b.get(service + "/app")
        check("and the session is as it was", status == 200 and "oidc:analyst1 (analyst)" in body, f"{status}")
        token = csrf_token(body)
        status, headers, _ = b.post(service + "/app/sign-out", {"csrf_token": token or ""})
        check("sign-out with the page's csrf_token", token is not None and status == 303, f"{status}")
        status, headers, _ = b.get(service + "/app/rounds/2025-26")
        check("after sign-out a page redirects to sign-in",
              status == 303 and headers.get("Location", "").startswith("/app/sign-in"), f"{status}")

        print("submitter1")
        b = Browser()
        _, status, headers, _ = flow.sign_in(b, "submitter1")
        check("submitter1 signs in (role and orgs from userinfo)", status == 303 and headers.get("Location") == "/app",
              f"{status}")
        status, _, body = b.get(service + "/app")
        check("the header names submitter1 and the role", status == 200 and "oidc:submitter1 (submitter)" in body,
              f"{status}")
        check("submitter1 is refused a national page", b.get(service + "/app/rounds/2025-26")[0] == 403)
        status = b.get(service + f"/app/organisations/{OWN_ORG}")[0]
        check(f"submitter1 reads its own organisation {OWN_ORG}", status == 200, f"{status}")
        status = b.get(service + f"/app/organisations/{OTHER_ORG}")[0]
        check(f"submitter1 is refused another organisation {OTHER_ORG}", status == 403, f"{status}")

        print("norole1")
        b = Browser()
        _, status, _, body = flow.sign_in(b, "norole1")
        check("norole1 is refused with a 403 page", status == 403 and "could not be signed in" in body, f"{status}")
        status, headers, _ = b.get(service + "/app/rounds/2025-26")
        check("and has no session", status == 303 and headers.get("Location", "").startswith("/app/sign-in"),
              f"{status}")

        print("tampered callbacks")
        b = Browser()
        callback = flow.authorize(b, "analyst1")
        parts = urllib.parse.urlsplit(callback)
        q = urllib.parse.parse_qs(parts.query)
        q["state"] = ["wrong" + q["state"][0]]
        status, _, _ = b.get(parts._replace(query=urllib.parse.urlencode(q, doseq=True)).geturl())
        check("a callback with a wrong state is refused", status == 403, f"{status}")
        status, _, _ = b.get(callback)
        check("the right callback after a wrong one is refused too (single use)", status == 403, f"{status}")
        check("and no session started", b.get(service + "/app/rounds/2025-26")[0] == 303)
        b = Browser()
        callback = flow.authorize(b, "analyst1")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(callback).query)
        status, _, _ = b.get(service + "/app/oidc/callback?" + urllib.parse.urlencode({"code": q["code"][0]}))
        check("a callback without state is a 400", status == 400, f"{status}")
        status, _, _ = Browser().get(service + "/app/oidc/callback?code=x&state=y")
        check("a callback in a browser that started no sign-in is refused", status == 403, f"{status}")
        b = Browser()
        _, status, headers, _ = flow.sign_in(b, "analyst1", "//elsewhere.example/")
        check("a next outside the front end lands on /app", status == 303 and headers.get("Location") == "/app",
              f"{status} {headers.get('Location')}")
    except Exception as exc:   # noqa: BLE001 - any failure of the flow itself is one failed check
        check("the flow ran to the end", False, str(exc))
        for name in ("service.log", "provider.log"):
            path = os.path.join(workdir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    print(f"--- {name} (tail)\n" + f.read()[-3000:].decode("utf-8", "replace"))
    finally:
        stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("DMA_BIN", "target/debug/dma"))
    args = ap.parse_args()
    run(args.bin)
    print(f"oidc_check: {passed} checks passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
