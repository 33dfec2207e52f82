"""Screenshots of the main screens for docs/screenshots/, taken in Chromium from a
running demo (`make run`): `python scripts/screenshots.py http://127.0.0.1:8000`."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_selector("#connection[data-state=live]")


def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=ARGS
        )
        page = browser.new_page(viewport={"width": 1366, "height": 800})
        sign_in(page, base, "agent@demo.test")
        # A conversation with a known contact, so the profile panel is filled.
        wanted = page.locator(".conversation-item", has_text="#4411")
        (wanted.first if wanted.count() else page.locator(".conversation-item").first).click()
        page.wait_for_selector(".entry")
        page.wait_for_selector("#profile .profile-panel, #profile p:not(.muted)")
        page.screenshot(path=OUT / "console.png")
        print("console.png")

        page.goto(f"{base}/sales/pipeline/")
        page.wait_for_selector(".deal-card")
        page.screenshot(path=OUT / "pipeline.png")
        print("pipeline.png")

        page.goto(f"{base}/sales/accounts/")
        page.click("#account-list a >> nth=0")
        page.wait_for_selector(".sales-grid")
        page.screenshot(path=OUT / "account.png", full_page=True)
        print("account.png")

        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        sign_in(phone, base, "sales@demo.test")
        phone.screenshot(path=OUT / "console-phone.png")
        phone.goto(f"{base}/sales/pipeline/")
        phone.wait_for_selector(".deal-card")
        phone.screenshot(path=OUT / "pipeline-phone.png")
        print("pipeline-phone.png")
        phone.goto(f"{base}/")
        phone.wait_for_selector("#connection[data-state=live]")
        phone.screenshot(path=OUT / "console-phone.png")
        print("console-phone.png")

        partner = browser.new_page(viewport={"width": 1366, "height": 800})
        sign_in(partner, base, "partner@supplier.test")
        partner.click(".conversation-item")
        partner.wait_for_selector(".entry")
        partner.screenshot(path=OUT / "partner-portal.png")
        print("partner-portal.png")

        visitor = browser.new_page(viewport={"width": 1100, "height": 700})
        visitor.goto(f"{base}/chat/demo/")
        visitor.click("div[data-hub-webchat] >> css=.launcher")
        visitor.fill("div[data-hub-webchat] >> css=textarea", "Hello! Is the blue model in stock?")
        visitor.keyboard.press("Enter")
        visitor.wait_for_selector("div[data-hub-webchat] >> css=.msg.inbound")
        visitor.screenshot(path=OUT / "web-chat-widget.png")
        print("web-chat-widget.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
