// The page frame: header (who, live status, sign-out), the error banner and a polite live
// region announcing changes made by others.

import { h, clear } from "../lib/dom.js";

export class Shell {
  constructor(root) {
    this.root = root;
    this.status = h("span", { class: "live-status", testid: "live-status", "data-status": "offline", role: "status" }, "offline");
    this.who = h("span", { class: "who" });
    this.settings = h("span", { class: "settings-slot" }); // the signed-in person's mail setting
    this.bell = h("span", { class: "bell-slot" }); // the signed-in person's notifications
    this.signOutButton = h("button", { type: "button", testid: "sign-out", hidden: true }, "Sign out");
    this.header = h("header", { class: "app-header" },
      h("p", { class: "brand" }, "casegraph · Service desk"),
      h("span", { class: "spacer" }),
      this.status,
      this.bell,
      this.settings,
      this.who,
      this.signOutButton,
    );
    this.bannerText = h("div", { class: "message", testid: "error-banner-message" });
    this.banner = h("div", { class: "error-banner", testid: "error-banner", role: "alert", hidden: true },
      this.bannerText,
      h("button", { type: "button", class: "link", onClick: () => this.clearError(), "aria-label": "Dismiss the error" }, "Dismiss"),
    );
    this.announcer = h("div", { class: "visually-hidden", "aria-live": "polite", testid: "announcer" });
    this.main = h("main", { id: "main" });
    clear(root).append(this.header, h("div", { class: "banner-slot" }, this.banner), this.main, this.announcer);
  }

  setLiveStatus(status) {
    this.status.textContent = status;
    this.status.dataset.status = status;
    this.status.title = {
      live: "Live updates are on.",
      connecting: "Connecting to live updates…",
      offline: "Live updates are off; reconnecting.",
    }[status] ?? status;
  }

  setUser(name, onSignOut) {
    clear(this.who);
    this.status.hidden = !name; // no live feed while signed out
    if (name) {
      this.who.append("Signed in as ", h("strong", { testid: "signed-in-as" }, name));
      this.signOutButton.hidden = false;
      this.signOutButton.onclick = onSignOut;
    } else {
      this.signOutButton.hidden = true;
      this.signOutButton.onclick = null;
      this.settings.replaceChildren();
      this.bell.replaceChildren();
    }
  }

  showError(message) {
    this.bannerText.textContent = message;
    this.banner.hidden = false;
  }

  clearError() {
    this.bannerText.textContent = "";
    this.banner.hidden = true;
  }

  announce(text) {
    // Re-setting the same text would not be read again: clear first.
    this.announcer.textContent = "";
    window.setTimeout(() => { this.announcer.textContent = text; }, 50);
  }
}
