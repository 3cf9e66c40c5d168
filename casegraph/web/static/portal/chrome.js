// The page furniture around the portal's content: the error banner, the live-status pill, who is
// signed in, and the screen-reader announcer for live changes.

import { h, replace } from "../lib/dom.js";
import { LANGUAGES, language, t } from "./i18n.js";
import { refusalWords } from "./refusals.js";


// lib/graphql.js (shared with the dashboard) words its own errors in English: the two it makes are
// said in the visitor's language here; any other message is the server's, shown as it is.
const CLIENT_REFUSAL = "Your sign-in was refused.";
const CLIENT_STATUS = /^The server answered (\d+)\.$/;

/** A message of the GraphQL client or the server, in the visitor's language where it is ours. */
export function clientMessage(message) {
  if (message === CLIENT_REFUSAL) return t("error.signInRefused");
  const status = CLIENT_STATUS.exec(message)?.[1];
  return status ? t("error.httpStatus", { status }) : message;
}

export class Banner {
  constructor(element) {
    this.element = element;
    this.message = element.querySelector(".message");
    element.querySelector(".dismiss").addEventListener("click", () => this.hide());
  }

  show(message, code = null) {
    // A refusal with a code is said by its code; only the client's own messages go by text.
    replace(this.message, code ? refusalWords({ code }) : clientMessage(message));
    if (code) this.element.dataset.code = code;
    else delete this.element.dataset.code;
    this.element.hidden = false;
  }

  hide() {
    this.element.hidden = true;
    replace(this.message);
  }
}

const LIVE_STATUSES = new Set(["live", "connecting", "offline"]);

export function showLiveStatus(element, status) {
  element.dataset.status = status;
  element.textContent = LIVE_STATUSES.has(status) ? t(`live.${status}`) : status;
}

/** The header's language menu; `onChoose(code)` is called when the visitor picks another. */
export function renderLanguageMenu(container, onChoose) {
  const menu = h(
    "select",
    { id: "language", testid: "language", onChange: (event) => onChoose(event.target.value) },
    Object.entries(LANGUAGES).map(([code, name]) =>
      h("option", { value: code, lang: code, selected: code === language() }, name),
    ),
  );
  replace(container, h("label", { class: "visually-hidden", for: menu.id }, t("header.language")), menu);
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
