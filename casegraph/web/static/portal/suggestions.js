// "These may answer your question": while a constituent writes a new request, the published
// knowledge articles matching their words, readable in place. Articles have no language of their
// own: they are shown as written.
//
// The search waits until typing pauses (DEBOUNCE_MS) and asks for a few articles only; an
// answer to older words than the latest is dropped. Opening an article is reported, once per
// article, as read in this draft (`recordSelfService`), and so is how the draft ends: filed, or
// left (Cancel, another service or request, sign-out, the page closed). The reports go one after
// another, so "left" never overtakes the read it follows; a draft in which nothing was read
// reports nothing.

import { h, replace } from "../lib/dom.js";
import { RECORD_SELF_SERVICE, SUGGESTED_ARTICLES } from "./documents.js";
import { t } from "./i18n.js";

const DEBOUNCE_MS = 400;
const MIN_SEARCH_LENGTH = 3;
const SHOWN = 3;
// The server reads the first words only, and refuses a longer text (suggestedArticles).
const MAX_TEXT = 2000;

/** A random UUID (version 4) naming this draft; randomUUID needs a secure context, getRandomValues does not. */
function draftId() {
  if (window.crypto?.randomUUID) return window.crypto.randomUUID();
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class ArticleSuggestions {
  constructor({ api, serviceCode }) {
    this.api = api;
    this.serviceCode = serviceCode;
    this.draftId = draftId();
    this.articles = [];
    this.opened = new Set(); // article ids unfolded (kept over redraws)
    this.read = new Set(); // article ids reported as read
    this.ended = false;
    this.timer = null;
    this.asked = 0; // the number of the latest search: older answers are dropped
    this.searched = null;
    this.reports = Promise.resolve();
    this.section = h("section", { class: "suggestions", testid: "suggestions", "aria-live": "polite" });
  }

  /** The section the form shows (drawn in the current language). */
  element() {
    this._draw();
    return this.section;
  }

  /** The visitor typed: search `text` once they pause. */
  typed(text) {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this._search(text), DEBOUNCE_MS);
  }

  /** The draft was filed as case `caseId`. */
  filed(caseId) {
    this._end({ step: "FILED", caseId });
  }

  /** The visitor went elsewhere without filing. */
  left() {
    this._end({ step: "ABANDONED" });
  }

  _end(step) {
    window.clearTimeout(this.timer);
    if (this.ended) return;
    this.ended = true;
    if (this.read.size) this._report(step);
  }

  async _search(text) {
    const search = text.trim().replace(/\s+/g, " ").slice(0, MAX_TEXT);
    if (search === this.searched || this.ended) return;
    this.searched = search;
    const asked = ++this.asked;
    let found = [];
    if (search.length >= MIN_SEARCH_LENGTH) {
      try {
        found = (await this.api.request(SUGGESTED_ARTICLES, { text: search, first: SHOWN })).suggestedArticles;
      } catch {
        return; // a help, not the task: a failed search leaves the form as it was
      }
    }
    if (asked !== this.asked) return;
    this.articles = found;
    this._draw();
  }

  _draw() {
    this.section.hidden = this.articles.length === 0;
    this.section.dataset.count = String(this.articles.length);
    replace(
      this.section,
      this.articles.length
        ? [
          h("h3", {}, t("help.heading")),
          h("p", { class: "hint" }, t("help.intro")),
          h("ul", { class: "plain suggested-articles" }, this.articles.map((article) => this._article(article))),
        ]
        : null,
    );
  }

  _article(article) {
    return h(
      "li",
      { testid: "suggested-article", "data-article-id": article.id },
      h(
        "details",
        {
          open: this.opened.has(article.id),
          onToggle: (event) => {
            if (!event.target.open) {
              this.opened.delete(article.id);
              return;
            }
            this.opened.add(article.id);
            this._articleRead(article.id);
          },
        },
        h("summary", { testid: "suggested-article-title" }, article.title),
        h("div", { class: "pre-wrap article-body", testid: "suggested-article-body" }, article.body),
      ),
    );
  }

  _articleRead(articleId) {
    if (this.ended || this.read.has(articleId)) return;
    this.read.add(articleId);
    this._report({ step: "ARTICLE_READ", serviceCode: this.serviceCode, articleId });
  }

  _report(step) {
    const input = { draftId: this.draftId, ...step };
    // Counting is the agency's business, not the visitor's: a failed report is not shown to them.
    this.reports = this.reports.then(() => this.api.request(RECORD_SELF_SERVICE, { input }).catch(() => null));
  }
}
