"""The review console in the demo: a demo sign-in, and a look at its queue over HTTP.

The demo writes one local account (an agent of the sample tenant with a fresh
random password) into the run's review configuration before the services
start, and after the sample tickets settle it signs in the way a browser does
and counts the demo's review cases in the queue, so what it prints is true.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

DEMO_USER = "demo-agent"
DEMO_TENANT = "acme-shop"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str


def write_demo_account(data_dir: Path) -> DemoLogin:
    from services.review.auth import hash_password

    password = secrets.token_urlsafe(9)
    path = data_dir / "review" / "review.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"secure_cookies": False, "accounts": [
        {"username": DEMO_USER, "tenant": DEMO_TENANT, "role": "lead", "password_hash": hash_password(password)}]}))
    path.chmod(0o600)
    return DemoLogin(DEMO_USER, password)


def queued_conversations(base_url: str, login: DemoLogin, expected: set[str], timeout: float = 60.0) -> set[str]:
    """Sign in and read the queue (all pages) until ``expected`` is there or ``timeout`` passes."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=10) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        client.post("/login", data={"csrf_token": token, "username": login.username, "password": login.password,
                                    "next": "/queue"})
        while True:
            shown: set[str] = set()
            page = 1
            while True:
                html = client.get("/queue", params={"page": page}).text
                found = set(re.findall(r'data-conversation="([^"]+)"', html))
                shown |= found
                if not found or f"page={page + 1}" not in html:
                    break
                page += 1
            if expected <= shown or time.monotonic() > deadline:
                return shown
            time.sleep(1)
