// The caller's history in the case view (staff): the requester's contact details, their other
// cases — open ones first, then finished ones, newest first, ten at a time — and the satisfaction
// their surveys gave. Each case opens in the case view. The API shows contact details to staff
// only (User.email/phone/preferredLanguage), and lists only cases the viewer may see.

import { h, replace } from "../lib/dom.js";
import { formatDateTime, personName, statusLabel } from "./format.js";
import { CALLER_CASES } from "./queries.js";

const FINISHED = ["CLOSED", "CANCELLED"];
const OPEN = ["NEW", "OPEN", "AWAITING_INFO", "INSPECTION_IN_PROGRESS", "WORK_IN_PROGRESS", "WORK_ASSIGNMENT_IN_PROGRESS", "READY_FOR_DECISION", "RESOLVED"];
const LANGUAGES = { en: "English", es: "Spanish" };

export class CallerHistory {
  constructor({ api, onError }) {
    this.api = api;
    this.onError = onError;
    this.key = null;
    this.contact = h("dl", { class: "case-summary caller-contact", testid: "caller-contact" });
    this.openList = h("ul", { class: "plain caller-cases", testid: "caller-open-cases" });
    this.finishedList = h("ul", { class: "plain caller-cases", testid: "caller-finished-cases" });
    this.satisfaction = h("p", { testid: "caller-satisfaction" });
    this.element = h("div", { class: "caller-history", testid: "caller-history" },
      this.contact,
      h("h4", { id: "caller-open-heading" }, "Open cases"), this.openList,
      h("h4", { id: "caller-finished-heading" }, "Finished cases"), this.finishedList,
      h("h4", {}, "Satisfaction"), this.satisfaction);
  }

  /** Draw the case's requester; their cases are read once per case opened (and per version). */
  show(detail) {
    const person = detail.requester;
    const row = (label, value, testid) => [h("dt", {}, label), h("dd", { testid }, value || "—")];
    replace(this.contact,
      h("div", {}, ...row("Name", personName(person), "caller-name")),
      h("div", {}, ...row("E-mail", person?.email, "caller-email")),
      h("div", {}, ...row("Phone", person?.phone, "caller-phone")),
      h("div", {}, ...row("Language", LANGUAGES[person?.preferredLanguage] ?? person?.preferredLanguage, "caller-language")));
    const key = `${detail.id}:${person?.id}:${detail.version}`;
    if (!person || key === this.key) return;
    this.key = key;
    this.caseId = detail.id;
    this.ratings = [];
    this.load(person.id, OPEN, this.openList, "No other open cases.", false);
    this.load(person.id, FINISHED, this.finishedList, "No finished cases.", false);
  }

  async load(requesterId, status, list, empty, more, after = null) {
    const key = this.key;
    try {
      const data = await this.api.request(CALLER_CASES, { requesterId, status, after });
      if (key !== this.key) return; // another case was opened meanwhile
      const page = data.cases;
      const cases = page.edges.map((edge) => edge.node).filter((c) => c.id !== this.caseId);
      if (!more) replace(list);
      list.querySelector("[data-more]")?.remove();
      for (const c of cases) {
        list.append(h("li", { testid: "caller-case", "data-number": c.number },
          h("a", { href: `#/case/${encodeURIComponent(c.id)}` }, c.number), " ", c.title || "(no title)",
          " — ", statusLabel(c.status), ", ", formatDateTime(c.updatedAt),
          c.survey ? ` — rated ${c.survey.rating} of 5` : ""));
        if (c.survey) this.ratings.push(c.survey.rating);
      }
      if (!list.children.length) list.append(h("li", { class: "empty" }, empty));
      if (page.pageInfo.hasNextPage) {
        list.append(h("li", { "data-more": "" }, h("button", {
          type: "button", class: "link",
          onClick: () => this.load(requesterId, status, list, empty, true, page.pageInfo.endCursor),
        }, `Show more (${page.totalCount} in all)`)));
      }
      this.showSatisfaction();
    } catch (error) {
      this.onError(error);
    }
  }

  showSatisfaction() {
    if (!this.ratings.length) {
      this.satisfaction.textContent = "No survey answered yet.";
      return;
    }
    const average = this.ratings.reduce((sum, rating) => sum + rating, 0) / this.ratings.length;
    this.satisfaction.textContent = `${average.toFixed(1)} of 5 on average over ${this.ratings.length} survey${this.ratings.length === 1 ? "" : "s"}.`;
  }
}
