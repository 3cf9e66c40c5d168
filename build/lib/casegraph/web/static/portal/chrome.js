// The page furniture around the portal's content: the error banner, the live-status pill, who is
// signed in, and the screen-reader announcer for live changes.

import { replace } from "../lib/dom.js";

const CODES_SAID_PLAINLY = {
  UNAUTHENTICATED: "Your sign-in is no longer valid. Please sign in again.",
  RATE_LIMITED: "Too many requests at once. Please wait a moment and try again.",
  INTERNAL_ERROR: "Something went wrong on our side. Please try again later.",
};

export class Banner {
  constructor(element) {
    this.element = element;
    this.message = element.querySelector(".message");
    element.querySelector(".dismiss").addEventListener("click", () => this.hide());
  }

  show(message, code = null) {
    replace(this.message, CODES_SAID_PLAINLY[code] ?? message);
    if (code) this.element.dataset.code = code;
    else delete this.element.dataset.code;
    this.element.hidden = false;
  }

  hide() {
    this.element.hidden = true;
    replace(this.message);
  }
}

const STATUS_TEXT = { live: "live", connecting: "connecting", offline: "offline" };

export function showLiveStatus(element, status) {
  element.dataset.status = status;
  element.textContent = STATUS_TEXT[status] ?? status;
}

export function showSignedIn(nameElement, signOutButton, name) {
  nameElement.hidden = name === null;
  signOutButton.hidden = name === null;
  nameElement.textContent = name ?? "";
}

export function announce(text) {
  const region = document.getElementById("announcer");
  // Clearing first makes a repeated message be read again.
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}
