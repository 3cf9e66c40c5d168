// One request, as its constituent sees it: where it stands, the public conversation, and what
// they are asked to do now: answer a question (AWAITING_INFO), accept or reject a proposed solution
// (RESOLVED), rate the service (CLOSED after accepting). They may also change its description and
// contact details, close it or withdraw it. What is offered follows the case's `availableActions`,
// so the portal never shows a button the server would refuse. A finished request shows its whole
// outcome: the resolution in words, its notes, who decided and when, the survey, or why it was
// withdrawn.
//
// The detail is redrawn whenever the case changes (live), so text typed into its forms is kept
// in `drafts` and focus is put back where it was.

import { h, replace } from "../lib/dom.js";
import { ATTACHABLE, downloadLink, dropZone, thumbnailImage } from "../lib/files.js";
import { announce } from "./chrome.js";
import {
  ACCEPT_SOLUTION, ANSWER, CANCEL_CASE, CASE_FILE_LINKS, CLOSE_CASE, EDIT_CASE, REJECT_SOLUTION,
  SUBMIT_CASE, SUBMIT_SURVEY,
} from "./documents.js";
import { IdempotencyKey, field, formError, submitting } from "./forms.js";
import { formatNumber, t } from "./i18n.js";
import { formatTime, happening, progressSteps, resolutionLabel, statusLabel } from "./labels.js";
import { sendFiles } from "./uploads.js";

// Events whose details carry a resolution the requester should be able to read again later.
const OUTCOME_ACTIONS = new Set(["PROPOSE_SOLUTION", "CLOSE", "MARK_DUPLICATE"]);
// Events that decided a request's outcome (the latest one names who and when).
const DECIDING_ACTIONS = new Set(["PROPOSE_SOLUTION", "CLOSE", "AUTO_CLOSE", "MARK_DUPLICATE"]);
// What the requester may change of their own request (lifecycle UPDATE), each with the catalogue
// text said when the server refuses its value.
const EDITABLE = [
  { name: "description", label: "file.description", invalid: "edit.invalid.description" },
  { name: "contactEmail", label: "file.email", invalid: "edit.invalid.contactEmail" },
  { name: "contactPhone", label: "file.phone", invalid: "edit.invalid.contactPhone" },
];

// The survey's scale (catalogue keys survey.rating.<n>).
const RATINGS = [1, 2, 3, 4, 5];
const BEST_RATING = RATINGS.at(-1);

// What the file picker offers: the types the server accepts (it sniffs the bytes anyway).

export class CaseDetail {
  constructor(container, { api, banner, me, onChanged, onReload }) {
    this.container = container;
    this.onReload = onReload; // (caseId) => void: fetch the case again (after a version conflict)
    this.api = api;
    this.banner = banner;
    this.me = me;
    this.onChanged = onChanged; // (case) => void: a mutation returned the case's new state
    this.drafts = new Map(); // "<caseId>:<testid>" -> text typed but not sent
    this.keys = new Map(); // "<caseId>:<form>" -> IdempotencyKey
    this.pickers = new Map(); // case id -> its file input (kept, with the file picked, across redraws)
    this.current = null;
    this.notices = new Map(); // caseId -> what the visitor's last change did (shown until they leave it)
  }

  get caseId() {
    return this.current?.id ?? null;
  }

  show(item) {
    const focused = this._focusedControl();
    this.current = item;
    replace(this.container, this._render(item));
    const notice = this.notices.get(item.id);
    if (notice) {
      this.container.querySelector(".case-detail-head")
        ?.append(h("p", { class: "callout notice", testid: "case-notice", role: "status" }, notice));
    }
    if (focused) this._restoreFocus(focused);
  }

  clear() {
    this.current = null;
    this.notices.clear();
  }

  focusHeading() {
    this.container.querySelector("#case-detail-title")?.focus();
  }

  // ------------------------------------------------------------------------------------------

  _render(item) {
    const actions = new Set(item.availableActions ?? []);
    return h(
      "article",
      {
        class: "panel case-detail",
        testid: "case-detail",
        "data-case-id": item.id,
        "data-status": item.status,
        "aria-labelledby": "case-detail-title",
      },
      h(
        "header",
        { class: "case-detail-head" },
        h("p", { class: "case-number muted", testid: "case-number" }, t("case.number", { number: item.number })),
        h("h2", { id: "case-detail-title", testid: "case-title", tabIndex: -1 }, item.title || t("common.noTitle")),
        h(
          "p",
          { class: "case-status-line" },
          t("case.status"),
          " ",
          h(
            "span",
            { class: ["badge", `status-${item.status}`], testid: "case-status", "data-status": item.status },
            statusLabel(item.status),
          ),
        ),
        h(
          "p",
          { class: "muted" },
          item.caseType?.name ?? "",
          item.submittedAt ? [" · ", t("case.sent", { time: formatTime(item.submittedAt) })] : "",
        ),
      ),
      this._progress(item),
      actions.has("SUBMIT") ? this._draft(item) : null,
      item.status === "AWAITING_INFO" && actions.has("UPDATE") ? this._infoRequest(item) : null,
      item.status === "RESOLVED" ? this._solution(item, actions) : null,
      item.status === "CLOSED" ? this._outcome(item) : null,
      item.status === "CANCELLED" ? this._cancelled(item) : null,
      item.survey ? this._surveyThanks(item.survey) : null,
      !item.survey && actions.has("SUBMIT_SURVEY") ? this._survey(item) : null,
      h(
        "section",
        { class: "case-description", "aria-labelledby": "description-heading" },
        h("h3", { id: "description-heading" }, t("description.heading")),
        item.description
          ? h("p", { class: "pre-wrap", testid: "case-description" }, item.description)
          : h("p", { class: "empty", testid: "case-description" }, t("description.none")),
      ),
      actions.has("UPDATE") && item.status !== "DRAFT" ? this._edit(item) : null,
      this._conversation(item, actions),
      this._attachments(item, actions),
      this._timeline(item),
      actions.has("CLOSE") ? this._close(item) : null,
      actions.has("CANCEL") ? this._withdraw(item) : null,
    );
  }

  /** Change the description and contact details; checked against the version the edit began from. */
  _edit(item) {
    const open = this.drafts.get(`${item.id}:edit-open`) === "yes";
    // The version seen when the edit began: a change by someone else since is a conflict.
    const base = Number(this.drafts.get(`${item.id}:edit-version`) ?? item.version);
    const controls = Object.fromEntries(EDITABLE.map(({ name }) => {
      const draftKey = `${item.id}:edit-${name}`;
      const attrs = {
        id: `edit-${name}`, name, testid: `edit-${name}`,
        value: this.drafts.get(draftKey) ?? item[name] ?? "",
        onInput: (event) => this.drafts.set(draftKey, event.target.value),
      };
      if (name === "description") return [name, h("textarea", { ...attrs, rows: 5 })];
      const type = name === "contactEmail" ? "email" : "tel";
      return [name, h("input", { ...attrs, type, autocomplete: type === "email" ? "email" : "tel" })];
    }));
    const submit = h("button", { type: "submit", class: "primary", testid: "edit-submit" }, t("edit.submit"));
    const error = formError();
    const form = h(
      "form",
      { class: "edit-form", noValidate: true },
      item.status === "AWAITING_INFO" ? h("p", { class: "hint", testid: "edit-resumes" }, t("edit.resumes")) : null,
      EDITABLE.map(({ name, label }) => field(t(label), controls[name])),
      error,
      h("div", { class: "form-actions" }, submit),
    );
    const say = (refusal) => {
      if (refusal.code === "VERSION_CONFLICT") {
        return [
          t("edit.conflict"), " ",
          h("button", { type: "button", testid: "edit-reload", onClick: () => this._reloadEdit(item.id) }, t("edit.reload")),
        ];
      }
      const known = EDITABLE.find(({ name }) => name === refusal.field);
      return refusal.code === "VALIDATION_FAILED" && known ? t(known.invalid) : null;
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = { caseId: item.id, expectedVersion: base };
      for (const { name } of EDITABLE) {
        if (controls[name].value !== (item[name] ?? "")) input[name] = controls[name].value;
      }
      if (Object.keys(input).length === 2) {
        replace(error, t("edit.nothing"));
        return;
      }
      const statusBefore = item.status;
      this._act(item, "edit", { form, error, buttons: [submit], say }, async (idempotencyKey) =>
        (await this.api.request(EDIT_CASE, { input: { ...input, idempotencyKey } })).updateCase,
      [...EDITABLE.map(({ name }) => `edit-${name}`), "edit-version", "edit-open"], (changed) => {
        const text = changed.status !== statusBefore
          ? t("edit.savedResumed", { status: statusLabel(changed.status) })
          : t("edit.saved");
        this.notices.set(item.id, text);
        announce(text);
      });
    });
    return h(
      "details",
      {
        class: "edit", testid: "edit-case", open,
        onToggle: (event) => {
          this.drafts.set(`${item.id}:edit-open`, event.target.open ? "yes" : "no");
          if (event.target.open && !this.drafts.has(`${item.id}:edit-version`)) {
            this.drafts.set(`${item.id}:edit-version`, String(item.version));
          }
        },
      },
      h("summary", {}, t("edit.summary")),
      form,
    );
  }

  /** After a conflict: the case as it is now, with what the visitor typed kept. */
  _reloadEdit(caseId) {
    this.drafts.delete(`${caseId}:edit-version`);
    this.drafts.set(`${caseId}:edit-open`, "yes");
    this.onReload(caseId);
  }

  /** Close the request (the requester needs to give nothing), after a confirmation. */
  _close(item) {
    const confirming = this.drafts.get(`${item.id}:close-confirm`) === "yes";
    const error = formError();
    const ask = h("button", {
      type: "button", testid: "close-case",
      onClick: () => {
        this.drafts.set(`${item.id}:close-confirm`, "yes");
        this.show(this.current);
        this.container.querySelector('[data-testid="close-confirm"]')?.focus();
      },
    }, t("close.submit"));
    const confirm = h("button", { type: "submit", class: "danger", testid: "close-confirm" }, t("close.confirm"));
    const keep = h("button", {
      type: "button", testid: "close-keep",
      onClick: () => {
        this.drafts.delete(`${item.id}:close-confirm`);
        this.show(this.current);
      },
    }, t("close.keep"));
    const form = h(
      "form",
      { class: "close-form" },
      confirming ? h("p", { class: "callout", role: "alert", testid: "close-question" }, t("close.question")) : null,
      error,
      h("div", { class: "form-actions" }, confirming ? [confirm, keep] : ask),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this._act(item, "close", { form, error, buttons: [confirm, keep] }, async (idempotencyKey) =>
        (await this.api.request(CLOSE_CASE, { input: { caseId: item.id, idempotencyKey } })).closeCase,
      ["close-confirm"]);
    });
    return h(
      "section",
      { class: "close", testid: "close", "aria-labelledby": "close-heading" },
      h("h3", { id: "close-heading" }, t("close.heading")),
      h("p", { class: "muted" }, t("close.intro")),
      form,
    );
  }

  /** Who decided the outcome and when, and when the request was closed, from its history. */
  _decided(item) {
    const events = (item.history?.edges ?? []).map((edge) => edge.node);
    const decision = events.filter((event) => DECIDING_ACTIONS.has(event.action)).at(-1);
    // The step into the status shown (a survey afterwards records no transition).
    const closing = events.filter((event) => event.type === "CASE_TRANSITIONED" && event.toStatus === item.status).at(-1);
    const who = (event) => (event.actor?.id === this.me.id ? t("outcome.you") : event.actor?.name ?? t("common.staff"));
    return [
      decision && decision !== closing
        ? h("p", { class: "muted", testid: "outcome-by" },
          t("outcome.by", { name: who(decision), time: formatTime(decision.occurredAt) }))
        : null,
      closing
        ? h("p", { class: "muted", testid: "outcome-closed" },
          t(`outcome.at.${item.status}`, { name: who(closing), time: formatTime(closing.occurredAt) }))
        : null,
    ];
  }

  /** A withdrawn request: why, by whom and when. */
  _cancelled(item) {
    return h(
      "section",
      { class: "outcome", testid: "case-cancelled", "aria-labelledby": "cancelled-heading" },
      h("h3", { id: "cancelled-heading" }, t("cancelled.heading")),
      item.cancelReason
        ? h("p", { class: "pre-wrap", testid: "cancel-reason-text" }, item.cancelReason)
        : h("p", { class: "empty", testid: "cancel-reason-text" }, t("cancelled.noReason")),
      this._decided(item),
    );
  }

  _draft(item) {
    const submit = h("button", { type: "submit", class: "primary", testid: "submit-draft" }, t("draft.submit"));
    const error = formError();
    const form = h("form", {}, error, h("div", { class: "form-actions" }, submit));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this._act(item, "submit", { form, error, buttons: [submit] }, async (idempotencyKey) => {
        const input = { caseId: item.id, idempotencyKey };
        return (await this.api.request(SUBMIT_CASE, { input })).submitCase;
      });
    });
    return h(
      "section",
      { class: "callout draft", testid: "draft", "aria-labelledby": "draft-heading" },
      h("h3", { id: "draft-heading" }, t("draft.heading")),
      h("p", {}, t("draft.intro")),
      form,
    );
  }

  _withdraw(item) {
    const reason = this._draftArea(item.id, "cancel-reason", { id: "cancel-reason", name: "reason", rows: 2 });
    const submit = h("button", { type: "submit", class: "danger", testid: "cancel-case" }, t("withdraw.submit"));
    const error = formError();
    const form = h("form", {}, field(t("withdraw.reason"), reason), error, h("div", { class: "form-actions" }, submit));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this._act(item, "cancel", { form, error, buttons: [submit] }, async (idempotencyKey) => {
        const input = { caseId: item.id, idempotencyKey };
        if (reason.value.trim()) input.reason = reason.value;
        return (await this.api.request(CANCEL_CASE, { input })).cancelCase;
      }, ["cancel-reason"]);
    });
    // Folded away: withdrawing is rare and final, so it should not be the first thing offered.
    return h(
      "details",
      {
        class: "withdraw", testid: "withdraw",
        open: this.drafts.get(`${item.id}:withdraw-open`) === "yes",
        onToggle: (event) => this.drafts.set(`${item.id}:withdraw-open`, event.target.open ? "yes" : "no"),
      },
      h("summary", {}, t("withdraw.summary")),
      form,
    );
  }

  _progress(item) {
    const steps = progressSteps(item.workflow, item.stage, item.status);
    const at = steps.findIndex((step) => step.state === "current");
    const position = at >= 0 ? at + 1 : steps.length;
    return h(
      "section",
      { class: "progress", testid: "case-stage", "data-stage": item.stage, "aria-labelledby": "progress-heading" },
      h("h3", { id: "progress-heading", class: "visually-hidden" }, t("progress.heading")),
      h("p", { class: "visually-hidden" }, t("progress.step", { position, count: steps.length, label: steps[position - 1].label })),
      h(
        "ol",
        { class: "progress-steps" },
        steps.map((step) =>
          h(
            "li",
            {
              class: ["progress-step", step.state],
              "data-stage": step.stage,
              "aria-current": step.state === "current" ? "step" : null,
            },
            h("span", { class: "progress-label" }, step.label),
          ),
        ),
      ),
    );
  }

  _infoRequest(item) {
    const question = findQuestion(item, this.me.id);
    const answer = this._draftArea(item.id, "answer-text", { id: "answer-text", name: "comment", rows: 4 });
    const submit = h("button", { type: "submit", class: "primary", testid: "answer-submit" }, t("info.submit"));
    const error = formError();
    const form = h(
      "form",
      { class: "answer-form" },
      field(t("info.answer"), answer, { required: true }),
      error,
      h("div", { class: "form-actions" }, submit),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this._act(item, "answer", { form, error, buttons: [submit] }, async (idempotencyKey) => {
        // A comment from the requester answers the question and resumes the case (UPDATE rule).
        const input = { caseId: item.id, comment: answer.value, idempotencyKey };
        return (await this.api.request(ANSWER, { input })).updateCase;
      }, ["answer-text"]);
    });
    return h(
      "section",
      { class: "callout info-request", testid: "info-request", "aria-labelledby": "info-request-heading" },
      h("h3", { id: "info-request-heading" }, t("info.heading")),
      question
        ? h(
          "blockquote",
          { class: "question" },
          h("p", { class: "pre-wrap", testid: "info-question" }, question.body),
          h("footer", { class: "muted" }, question.author?.name ?? t("common.staff"), " · ", formatTime(question.createdAt)),
        )
        : null,
      h("p", {}, t("info.continues")),
      form,
    );
  }

  /** How a closed request ended: the solution accepted, or what staff wrote when closing it. */
  _outcome(item) {
    return h(
      "section",
      { class: "outcome", testid: "case-outcome", "aria-labelledby": "outcome-heading" },
      h("h3", { id: "outcome-heading" }, t("outcome.heading")),
      item.resolutionCode
        ? h("p", { class: "solution-code", testid: "outcome-code", "data-code": item.resolutionCode },
          resolutionLabel(item.resolutionCode))
        : null,
      item.resolutionNotes ? h("p", { class: "pre-wrap", testid: "outcome-notes" }, item.resolutionNotes) : null,
      this._decided(item),
    );
  }

  _solution(item, actions) {
    const parts = [
      h("h3", { id: "solution-heading" }, t("solution.heading")),
      h("p", { class: "solution-code", testid: "solution-code", "data-code": item.resolutionCode ?? "" },
        resolutionLabel(item.resolutionCode)),
      item.resolutionNotes ? h("p", { class: "pre-wrap", testid: "solution-notes" }, item.resolutionNotes) : null,
      this._decided(item),
    ];
    if (actions.has("ACCEPT_SOLUTION")) {
      const accept = h("button", { type: "submit", class: "primary", testid: "accept-solution" }, t("solution.accept"));
      const acceptError = formError();
      const acceptForm = h("form", { class: "accept-form" }, h("div", { class: "form-actions" }, accept), acceptError);
      acceptForm.addEventListener("submit", (event) => {
        event.preventDefault();
        this._act(item, "accept", { form: acceptForm, error: acceptError, buttons: [accept] }, async (idempotencyKey) => {
          const input = { caseId: item.id, idempotencyKey };
          return (await this.api.request(ACCEPT_SOLUTION, { input })).acceptSolution;
        });
      });
      parts.push(h("p", {}, t("solution.question")), acceptForm);
    }
    if (actions.has("REJECT_SOLUTION")) {
      const reason = this._draftArea(item.id, "reject-reason", { id: "reject-reason", name: "reason", rows: 3 });
      const reject = h("button", { type: "submit", class: "danger", testid: "reject-solution" }, t("solution.reject"));
      const rejectError = formError();
      const rejectForm = h(
        "form",
        { class: "reject-form" },
        field(t("solution.rejectReason"), reason, { required: true }),
        rejectError,
        h("div", { class: "form-actions" }, reject),
      );
      rejectForm.addEventListener("submit", (event) => {
        event.preventDefault();
        this._act(item, "reject", { form: rejectForm, error: rejectError, buttons: [reject] }, async (idempotencyKey) => {
          const input = { caseId: item.id, reason: reason.value, idempotencyKey };
          return (await this.api.request(REJECT_SOLUTION, { input })).rejectSolution;
        }, ["reject-reason"]);
      });
      parts.push(rejectForm);
    }
    return h("section", { class: "callout solution", testid: "solution", "aria-labelledby": "solution-heading" }, parts);
  }

  _survey(item) {
    const radios = RATINGS.map((value) => {
      const radio = h("input", {
        type: "radio", name: "rating", value: String(value), id: `survey-rating-${value}`,
        testid: `survey-rating-${value}`, required: true,
        checked: this.drafts.get(`${item.id}:survey-rating`) === String(value),
        onChange: () => this.drafts.set(`${item.id}:survey-rating`, String(value)),
      });
      // The label wraps its radio: the whole chip is the click target, the radio stays visible.
      return h("label", { class: "rating", for: radio.id }, radio, h("span", { class: "stars" }, formatNumber(value)), " ",
        t(`survey.rating.${value}`));
    });
    const comment = this._draftArea(item.id, "survey-comment", { id: "survey-comment", name: "comment", rows: 3 });
    const submit = h("button", { type: "submit", class: "primary", testid: "survey-submit" }, t("survey.submit"));
    const error = formError();
    const form = h(
      "form",
      { class: "survey-form" },
      h("fieldset", { class: "ratings" }, h("legend", {}, t("survey.question")), radios),
      field(t("survey.comment"), comment),
      error,
      h("div", { class: "form-actions" }, submit),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const rating = Number(form.elements.rating.value);
      this._act(item, "survey", { form, error, buttons: [submit] }, async (idempotencyKey) => {
        const input = { caseId: item.id, rating, idempotencyKey };
        if (comment.value.trim()) input.comment = comment.value;
        return (await this.api.request(SUBMIT_SURVEY, { input })).submitSurvey;
      }, ["survey-comment", "survey-rating"]);
    });
    return h(
      "section",
      { class: "callout survey", testid: "survey", "aria-labelledby": "survey-heading" },
      h("h3", { id: "survey-heading" }, t("survey.heading")),
      form,
    );
  }

  _surveyThanks(survey) {
    return h(
      "section",
      { class: "callout thanks", testid: "survey-thanks", "data-rating": survey.rating, "aria-labelledby": "thanks-heading" },
      h("h3", { id: "thanks-heading" }, t("thanks.heading")),
      h("p", {}, t("thanks.rated", { rating: survey.rating, best: BEST_RATING })),
      survey.comment ? h("p", { class: "pre-wrap muted" }, survey.comment) : null,
    );
  }

  _conversation(item, actions) {
    const comments = item.comments ?? [];
    const list = h(
      "ol",
      { class: "plain conversation", testid: "comments" },
      comments.length
        ? comments.map((comment) => {
          const mine = comment.author?.id === this.me.id;
          return h(
            "li",
            { testid: "comment", class: ["comment", mine ? "mine" : "theirs"], "data-comment-id": comment.id },
            h("p", { class: "comment-meta" }, mine ? t("messages.you") : comment.author?.name ?? t("common.staff"), " · ", formatTime(comment.createdAt)),
            h("p", { class: "pre-wrap comment-body" }, comment.body),
          );
        })
        : h("li", { class: "empty" }, t("messages.none")),
    );
    // Outside an information request (which has its own form) the requester may still write.
    let form = null;
    if (actions.has("UPDATE") && item.status !== "AWAITING_INFO") {
      const text = this._draftArea(item.id, "comment-text", { id: "comment-text", name: "comment", rows: 3 });
      const submit = h("button", { type: "submit", testid: "comment-submit" }, t("messages.submit"));
      const error = formError();
      form = h("form", { class: "comment-form" }, field(t("messages.label"), text, { required: true }), error,
        h("div", { class: "form-actions" }, submit));
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this._act(item, "comment", { form, error, buttons: [submit] }, async (idempotencyKey) => {
          const input = { caseId: item.id, comment: text.value, idempotencyKey };
          return (await this.api.request(ANSWER, { input })).updateCase;
        }, ["comment-text"]);
      });
    }
    return h(
      "section",
      { class: "case-conversation", "aria-labelledby": "conversation-heading" },
      h("h3", { id: "conversation-heading" }, t("messages.heading")),
      list,
      form,
    );
  }

  _attachments(item, actions) {
    const files = item.attachments ?? [];
    const list = h(
      "ul",
      { class: "plain attachments", testid: "attachments" },
      files.length ? files.map((file) => this._attachment(file)) : h("li", { class: "empty" }, t("attachments.none")),
    );
    let form = null;
    if ((item.attachmentActions ?? []).includes("ADD_ATTACHMENT")) form = this._attachForm(item);
    return h(
      "section",
      { class: "case-attachments", "aria-labelledby": "attachments-heading" },
      h("h3", { id: "attachments-heading" }, t("attachments.heading")),
      list,
      form,
    );
  }

  /** The attach form of a case: files picked or dropped, checked, then sent one by one with progress. */
  _attachForm(item) {
    // One file input and one list of uploads per case, moved into each redraw (a live event, a
    // language switch): a redraw must not drop the files picked nor the lines of those on their way.
    if (!this.pickers.has(item.id)) {
      const picker = h("input", { type: "file", id: "attachment-file", name: "file", testid: "attachment-file", accept: ATTACHABLE, multiple: true });
      const uploads = h("ul", { class: "plain uploads", testid: "uploads", "aria-live": "polite" });
      this.pickers.set(item.id, { picker, uploads, busy: false });
    }
    const state = this.pickers.get(item.id);
    const { picker, uploads } = state;
    const chosen = h("p", { class: "muted", testid: "attachment-chosen", "aria-live": "polite" });
    const showChosen = () => {
      const names = [...(picker.files ?? [])].map((file) => file.name);
      replace(chosen, names.length ? t("attachments.chosen", { names: names.join(", ") }) : "");
    };
    showChosen();
    picker.onchange = showChosen;
    const zone = dropZone({ input: picker, title: t("attachments.label"), hint: t("attachments.drop"), testid: "attachment-drop" });
    const submit = h("button", { type: "submit", testid: "attachment-submit", disabled: state.busy }, t("attachments.submit"));
    const error = formError();
    const form = h("form", { class: "attachment-form" }, zone, h("p", { class: "hint" }, t("attachments.hint")), chosen,
      error, uploads, h("div", { class: "form-actions" }, submit));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const picked = [...(picker.files ?? [])];
      replace(error);
      if (!picked.length) {
        replace(error, t("attachments.choose"));
        return;
      }
      state.busy = true;
      submit.disabled = true;
      form.setAttribute("aria-busy", "true");
      try {
        const { latest } = await sendFiles(this.api, item.id, picked, uploads);
        picker.value = "";
        showChosen();
        if (latest) this.onChanged(latest);
      } catch (failure) {
        this.banner.show(failure.message, failure.code);
      } finally {
        state.busy = false;
        // The form on the page now (a redraw may have replaced this one meanwhile).
        for (const button of this.container.querySelectorAll('[data-testid="attachment-submit"]')) button.disabled = false;
        form.removeAttribute("aria-busy");
      }
    });
    return form;
  }

  _attachment(file) {
    const mine = file.uploadedBy?.id === this.me.id;
    const preview = file.thumbnailUrl
      ? thumbnailImage({ src: file.thumbnailUrl, alt: t("attachments.thumbnail", { name: file.filename }), unavailable: t("attachments.unavailable") })
      : null;
    const download = downloadLink({ file, text: t("attachments.download", { name: file.filename }), freshUrl: () => this._freshFileUrl(file) });
    return h(
      "li",
      { class: "attachment", testid: "attachment", "data-attachment-id": file.id, "data-scan-status": file.scanStatus },
      preview,
      h("div", {}, download,
        h("p", { class: ["scan-status", `scan-${String(file.scanStatus).toLowerCase()}`], testid: "attachment-scan" }, t(`attachments.scan.${file.scanStatus}`)),
        h("p", { class: "muted" }, mine ? t("attachments.byYou") : t("attachments.by", { name: file.uploadedBy?.name ?? t("common.staff") }),
          " · ", formatTime(file.createdAt))),
    );
  }

  /** A new link for the file (links live minutes; the page may have been open longer). */
  async _freshFileUrl(file) {
    const fresh = (await this.api.request(CASE_FILE_LINKS, { id: this.caseId }))?.case?.attachments ?? [];
    return fresh.find((candidate) => candidate.id === file.id)?.url ?? null;
  }

  _timeline(item) {
    const events = (item.history?.edges ?? []).map((edge) => edge.node);
    const lines = events
      .map((event) => ({ event, text: happening(event, event.actor?.id === this.me.id) }))
      .filter((line) => line.text !== null);
    return h(
      "section",
      { class: "case-timeline", "aria-labelledby": "timeline-heading" },
      h("h3", { id: "timeline-heading" }, t("timeline.heading")),
      h(
        "ol",
        { class: "plain timeline", testid: "timeline" },
        lines.map(({ event, text }) =>
          h(
            "li",
            { testid: "timeline-item", "data-action": event.action },
            h("span", {}, text),
            h("span", { class: "meta" }, " · ", formatTime(event.occurredAt)),
            this._proposal(event),
          ),
        ),
      ),
    );
  }

  /** A proposal or a close, as it was then: each stays readable after a rejection or a later one. */
  _proposal(event) {
    const code = event.details?.resolutionCode;
    const notes = event.details?.resolutionNotes;
    if (!OUTCOME_ACTIONS.has(event.action) || (!code && typeof notes !== "string")) return null;
    return h(
      "div",
      { class: "timeline-outcome", testid: "timeline-outcome" },
      code ? h("p", { class: "solution-code", "data-code": code }, resolutionLabel(code)) : null,
      typeof notes === "string" ? h("p", { class: "pre-wrap" }, notes) : null,
    );
  }

  // ------------------------------------------------------------------------------------------

  /** A textarea whose text survives redraws (kept in drafts under its test id). */
  _draftArea(caseId, testid, attrs) {
    const draftKey = `${caseId}:${testid}`;
    return h("textarea", {
      ...attrs,
      testid,
      value: this.drafts.get(draftKey) ?? "",
      onInput: (event) => this.drafts.set(draftKey, event.target.value),
    });
  }

  _key(caseId, formName) {
    const name = `${caseId}:${formName}`;
    if (!this.keys.has(name)) this.keys.set(name, new IdempotencyKey());
    return this.keys.get(name);
  }

  async _act(item, formName, { form, error, buttons, say = null }, perform, draftNames = [], then = null) {
    const payload = await submitting({
      form, errorBox: error, buttons, banner: this.banner, key: this._key(item.id, formName), perform, say,
    });
    if (!payload) return;
    for (const name of draftNames) this.drafts.delete(`${item.id}:${name}`);
    this.notices.delete(item.id); // about an earlier change: this one says its own, if anything
    then?.(payload.case);
    this.onChanged(payload.case);
  }

  _focusedControl() {
    const active = document.activeElement;
    if (!active || !this.container.contains(active) || !active.dataset.testid) return null;
    const selection = "selectionStart" in active ? [active.selectionStart, active.selectionEnd] : null;
    return { testid: active.dataset.testid, selection };
  }

  _restoreFocus({ testid, selection }) {
    const element = this.container.querySelector(`[data-testid="${CSS.escape(testid)}"]`);
    if (!element) return;
    element.focus();
    if (selection && typeof element.setSelectionRange === "function") {
      try {
        element.setSelectionRange(selection[0], selection[1]);
      } catch {
        // inputs such as type=email do not support a selection
      }
    }
  }
}

/**
 * The question of the pending information request: the first staff comment written with or after
 * the latest REQUEST_INFO event (the question is stored as a public comment in the same step).
 */
export function findQuestion(item, myId) {
  const events = (item.history?.edges ?? []).map((edge) => edge.node);
  const request = events.filter((event) => event.action === "REQUEST_INFO").at(-1);
  const staff = (item.comments ?? []).filter((comment) => comment.author?.id !== myId);
  if (request) {
    const asked = new Date(request.occurredAt).getTime();
    const question = staff.find((comment) => new Date(comment.createdAt).getTime() >= asked);
    if (question) return question;
  }
  return staff.at(-1) ?? null;
}
