// The case view's "Referrals" section: the case's referrals to and from partner agencies (each
// with its status in plain words, the partner's case and resolution when known, and the buttons
// its state allows: Retry a FAILED outbound one, Accept / Reject one received from a partner),
// and the "Refer to partner" form. Plus the history's wording of the referral events.
//
// Like the rest of the case view, the section is built once per case and refilled on each change:
// what is typed in the refer form or in an open reject form survives live updates.

import { h, clear } from "../lib/dom.js";
import { REFERRAL_MUTATIONS } from "./actions.js";
import { formatDateTime, label, resolutionLabel, stageLabel, statusLabel } from "./format.js";

const OPEN_TASK_STATES = new Set(["OPEN", "IN_PROGRESS"]);

// Who may refer at all (the server's `referralPartners` answers only them; a field agent may not).
const REFERRING_ROLES = new Set(["AGENT", "MANAGER", "ADMIN"]);

/** Whether someone with these roles refers cases (whether they may refer this one, the server says). */
export function refersCases(roles) {
  return (roles ?? []).some((role) => REFERRING_ROLES.has(role));
}

/** Whether the refer form is offered: when the server would take a referral from this viewer now
 * (availableActions holds REFER: the case's agent or a manager, on a case still being worked on). */
export function mayOfferReferral(detail) {
  return !detail.deletedAt && (detail.availableActions ?? []).includes("REFER");
}

/**
 * A referral's status in plain words: {label, detail}, shown as "label (detail)".
 * PENDING with an error is being retried; REJECTED carries the reason, FAILED the error.
 */
export function referralStatus(referral) {
  switch (referral.status) {
    case "PENDING":
      return { label: "Pending delivery", detail: referral.lastError ? `retrying: ${referral.lastError}` : "" };
    case "DELIVERED":
      return referral.direction === "INBOUND"
        ? { label: "Received", detail: "awaiting our decision" }
        : { label: "Delivered", detail: "" };
    case "ACCEPTED":
      return { label: "Accepted", detail: "" };
    case "REJECTED":
      return { label: "Rejected", detail: referral.reason ?? "" };
    case "FAILED":
      return { label: "Failed", detail: referral.lastError ?? "" };
    default:
      return { label: label("ReferralStatus", referral.status), detail: "" };
  }
}

/**
 * A referral event's history text, e.g. "Referred to HEALTH", "HEALTH: delivered (CS0001005)",
 * "HEALTH: resolved — SOLVED"; null for other events.
 */
export function describeReferralEvent(event, tasks = []) {
  const d = event.details ?? {};
  const partner = d.partner ?? "The partner";
  switch (event.action) {
    case "REFER": {
      const task = d.taskId ? tasks.find((t) => String(t.id) === String(d.taskId)) : null;
      let text = `Referred to ${partner}`;
      if (d.taskId) text = `Referred task “${task?.title ?? d.taskId}” to ${partner}`;
      return d.note ? `${text}, with a note` : text;
    }
    case "ACCEPT_REFERRAL":
      return `Accepted the referral from ${partner}`;
    case "REJECT_REFERRAL":
      return `Rejected the referral from ${partner}`;
    case "REFERRAL_UPDATE":
      return describeUpdate(partner, d);
    default:
      return null;
  }
}

function describeUpdate(partner, d) {
  const number = d.remoteCaseNumber ? ` (${d.remoteCaseNumber})` : "";
  if (d.status === "FAILED") return `${partner}: delivery failed`;
  if (d.status === "REJECTED") return `${partner}: rejected${number}`;
  if (d.remoteStatus === "RESOLVED" || d.remoteStatus === "CLOSED") {
    const verb = d.remoteStatus === "RESOLVED" ? "resolved" : "closed";
    return `${partner}: ${verb}${d.resolutionCode ? ` — ${resolutionLabel(d.resolutionCode).toLowerCase()}` : ""}`;
  }
  if (d.remoteStatus === "CANCELLED") return `${partner}: cancelled${number}`;
  if (d.status === "ACCEPTED") {
    return `${partner}: accepted${d.remoteStatus ? ` — ${statusLabel(d.remoteStatus).toLowerCase()}` : ""}${number}`;
  }
  if (d.status === "DELIVERED") return `${partner}: delivered${number}`;
  return `${partner}: ${d.status ? label("ReferralStatus", d.status).toLowerCase() : "updated"}${number}`;
}

let formSeq = 0;

export class ReferralsSection {
  /**
   * `run(kind, values)`: a REFERRAL_MUTATIONS mutation on the case (caseId and version added by
   * the caller); `retry(referral)`: send a FAILED one again. Both resolve to null when done, else
   * the message to show ("" when a banner shows it).
   */
  constructor({ run, retry, announce }) {
    this.run = run;
    this.retry = retry;
    this.announce = announce;
    this.detail = null;
    this.partners = null; // null: not loaded (yet)
    this.rejectForms = new Map(); // referral id -> its open reject form (kept across refills)
    this.list = h("ul", { class: "plain referral-list", testid: "referrals" });
    this.form = this.buildReferForm();
    this.element = h("div", { class: "referrals" }, this.list, this.form);
  }

  setPartners(partners) {
    this.partners = partners;
    if (this.detail) this.renderForm();
  }

  render(detail, { staff }) {
    const previous = this.detail;
    this.detail = detail;
    this.staff = staff;
    this.renderList();
    this.renderForm();
    if (previous?.id === detail.id) this.announceChanges(previous.referrals ?? [], detail.referrals ?? []);
  }

  /** Say what the partner changed (outbound referrals: our own decisions are announced when made). */
  announceChanges(before, after) {
    const old = new Map(before.map((referral) => [referral.id, referral]));
    const news = [];
    for (const referral of after) {
      const was = old.get(referral.id);
      if (!was || referral.direction !== "OUTBOUND") continue;
      const parts = [];
      if (was.status !== referral.status || was.lastError !== referral.lastError) {
        const { label, detail } = referralStatus(referral);
        parts.push(detail ? `${label} (${detail})` : label);
      }
      if (referral.remoteStatus && was.remoteStatus !== referral.remoteStatus) {
        parts.push(`their case is ${statusLabel(referral.remoteStatus).toLowerCase()}`);
      }
      if (parts.length) news.push(`Referral to ${referral.partnerName}: ${parts.join("; ")}.`);
    }
    if (news.length) this.announce(news.join(" "));
  }

  // ---- the list ---------------------------------------------------------------------------------

  renderList() {
    const c = this.detail;
    const referrals = c.referrals ?? [];
    clear(this.list);
    if (!referrals.length) this.list.append(h("li", { class: "empty" }, "Not referred to a partner agency."));
    const kept = new Map();
    for (const referral of referrals) {
      const slot = h("div", { class: "referral-form-slot" });
      const buttons = h("div", { class: "referral-actions" });
      for (const button of this.buttonsFor(referral, slot, kept)) buttons.append(button);
      this.list.append(h("li", {
        class: "referral", testid: "referral", "data-referral-id": referral.id,
        "data-direction": referral.direction, "data-status": referral.status,
      },
      this.summary(referral),
      buttons.childElementCount ? buttons : null,
      slot));
    }
    this.rejectForms = kept;
  }

  summary(referral) {
    const { label, detail } = referralStatus(referral);
    const inbound = referral.direction === "INBOUND";
    const task = referral.taskId ? this.detail.tasks.find((t) => String(t.id) === String(referral.taskId)) : null;
    const remote = [];
    if (referral.remoteCaseNumber) remote.push(h("span", { testid: "referral-remote-number", class: "case-ref" }, referral.remoteCaseNumber));
    if (referral.remoteStatus) {
      remote.push(remote.length ? ": " : "", h("span", { testid: "referral-remote-status" }, statusLabel(referral.remoteStatus)));
      if (referral.remoteStage) remote.push(` (stage ${stageLabel(referral.remoteStage).toLowerCase()})`);
    }
    const resolved = referral.remoteResolutionCode || referral.remoteResolutionNotes;
    return [
      h("div", {},
        h("strong", { testid: "referral-partner" }, `${inbound ? "From" : "To"} ${referral.partnerName}`),
        h("span", { class: "muted" }, ` (${referral.partnerCode})`), " ",
        h("span", { testid: "referral-status", "data-status": referral.status },
          h("span", { class: ["badge", `referral-${referral.status}`] }, label),
          detail ? h("span", { class: "referral-status-detail" }, ` (${detail})`) : null)),
      h("div", { class: "meta" },
        `${inbound ? "Received" : "Referred"} ${formatDateTime(referral.createdAt)}`,
        referral.deliveredAt && !inbound ? ` · delivered ${formatDateTime(referral.deliveredAt)}` : "",
        referral.taskId ? ` · task: ${task?.title ?? referral.taskId}` : " · the whole case"),
      remote.length ? h("div", { testid: "referral-remote" }, inbound ? "Their case: " : "Partner's case: ", remote) : null,
      resolved ? h("div", { testid: "referral-resolution" },
        h("strong", {}, "Partner's resolution: "),
        referral.remoteResolutionCode ? h("span", { testid: "referral-resolution-code", "data-resolution": referral.remoteResolutionCode }, resolutionLabel(referral.remoteResolutionCode)) : null,
        referral.remoteResolutionCode && referral.remoteResolutionNotes ? " — " : null,
        referral.remoteResolutionNotes ? h("span", { class: "pre-wrap", testid: "referral-resolution-notes" }, referral.remoteResolutionNotes) : null) : null,
      referral.note ? h("div", { class: "pre-wrap referral-note" }, h("span", { class: "muted" }, "Note: "), referral.note) : null,
    ];
  }

  buttonsFor(referral, slot, kept) {
    const buttons = [];
    const showError = (message) => {
      if (message) slot.replaceChildren(h("p", { class: "form-error", role: "alert", testid: "referral-error" }, message));
    };
    const label = `${referral.direction === "INBOUND" ? "from" : "to"} ${referral.partnerName}`;
    if (referral.direction === "OUTBOUND" && referral.status === "FAILED") {
      buttons.push(h("button", {
        type: "button", testid: "referral-retry", "aria-label": `Retry the referral ${label}`,
        onClick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          clear(slot);
          const message = await this.retry(referral);
          if (button.isConnected) button.disabled = false;
          if (message === null) this.announce(`The referral ${label} will be sent again.`);
          else showError(message);
        },
      }, "Retry"));
    }
    if (referral.direction !== "INBOUND") return buttons;
    // Deciding is offered as the server would take it from this viewer (availableActions).
    const offered = new Set(this.detail.availableActions ?? []);
    if (referral.status === "DELIVERED" && offered.has("ACCEPT_REFERRAL")) {
      buttons.push(h("button", {
        type: "button", class: "primary", testid: "referral-accept", "aria-label": `Accept the referral ${label}`,
        onClick: async (event) => {
          const button = event.currentTarget;
          button.disabled = true;
          clear(slot);
          const message = await this.run("accept", {});
          if (button.isConnected) button.disabled = false;
          if (message === null) this.announce(`Referral ${label} accepted.`);
          else showError(message);
        },
      }, REFERRAL_MUTATIONS.accept.label));
    }
    if ((referral.status === "DELIVERED" || referral.status === "ACCEPTED") && offered.has("REJECT_REFERRAL")) {
      const open = this.rejectForms.get(referral.id);
      if (open) {
        slot.append(open);
        kept.set(referral.id, open);
      }
      buttons.push(h("button", {
        type: "button", class: "danger", testid: "referral-reject", "aria-label": `Reject the referral ${label}`,
        "aria-expanded": String(Boolean(open)),
        onClick: (event) => {
          const button = event.currentTarget;
          const existing = this.rejectForms.get(referral.id);
          if (existing) {
            existing.querySelector("textarea").focus();
            return;
          }
          const form = this.rejectForm(referral, label, () => {
            // The list may have been refilled meanwhile: find the form's and button's current place.
            this.rejectForms.delete(referral.id);
            form.remove();
            const current = this.list.querySelector(
              `[data-referral-id="${CSS.escape(referral.id)}"] [data-testid="referral-reject"]`);
            current?.setAttribute("aria-expanded", "false");
            current?.focus();
          });
          this.rejectForms.set(referral.id, form);
          button.setAttribute("aria-expanded", "true");
          slot.replaceChildren(form);
          form.querySelector("textarea").focus();
        },
      }, `${REFERRAL_MUTATIONS.reject.label}…`));
    }
    return buttons;
  }

  rejectForm(referral, label, close) {
    const id = `referral-reject-${++formSeq}`;
    const reason = h("textarea", { id, rows: 2, testid: "referral-reject-reason", required: true });
    const error = h("p", { class: "form-error", testid: "referral-reject-error", role: "alert" });
    const submit = h("button", { type: "submit", class: "danger", testid: "referral-reject-submit" }, REFERRAL_MUTATIONS.reject.label);
    const form = h("form", {
      class: "inline-form", testid: "referral-reject-form", noValidate: true,
      onSubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        const text = reason.value.trim();
        if (!text) {
          error.textContent = "Please give a reason: the partner agency is told.";
          reason.focus();
          return;
        }
        submit.disabled = true;
        form.setAttribute("aria-busy", "true");
        try {
          const message = await this.run("reject", { reason: text });
          if (message === null) {
            this.rejectForms.delete(referral.id);
            this.announce(`Referral ${label} rejected; the case is cancelled.`);
          } else if (message) {
            error.textContent = message;
          }
        } finally {
          submit.disabled = false;
          form.removeAttribute("aria-busy");
        }
      },
    },
    h("label", { for: id }, `Why reject the referral ${label}? (the partner is told; the case here is cancelled)`),
    reason, error,
    h("div", { class: "form-actions" }, submit, h("button", { type: "button", onClick: close }, "Never mind")));
    return form;
  }

  // ---- the refer form ---------------------------------------------------------------------------

  buildReferForm() {
    const id = `refer-form-${++formSeq}`;
    this.partnerSelect = h("select", { id: `${id}-partner`, name: "partnerCode", testid: "refer-partner", required: true });
    this.taskSelect = h("select", { id: `${id}-task`, name: "taskId", testid: "refer-task" });
    this.note = h("textarea", { id: `${id}-note`, name: "note", testid: "refer-note", rows: 2 });
    this.referError = h("p", { class: "form-error", testid: "refer-error", role: "alert" });
    this.referSubmit = h("button", { type: "submit", class: "primary", testid: "refer-submit" }, "Refer");
    this.noPartners = h("p", { class: "muted", testid: "refer-no-partners", hidden: true },
      "No partner agency is set up for referrals: an administrator registers them.");
    this.referFields = h("div", {},
      h("div", { class: "field" }, h("label", { for: this.partnerSelect.id }, "Partner agency"), this.partnerSelect),
      h("div", { class: "field" },
        h("label", { for: this.taskSelect.id }, "What to refer", h("span", { class: "hint" }, " (the whole case, or one open task)")),
        this.taskSelect),
      h("div", { class: "field" },
        h("label", { for: this.note.id }, "Note for the partner", h("span", { class: "hint" }, " (optional; they see it)")),
        this.note),
      this.referError,
      h("div", { class: "form-actions" }, this.referSubmit));
    const form = h("form", {
      class: "refer-form panel-inset", testid: "refer-form", "aria-labelledby": `${id}-title`, noValidate: true, hidden: true,
      onSubmit: (event) => {
        event.preventDefault();
        this.submitReferral(form);
      },
    },
    h("h4", { id: `${id}-title` }, "Refer to partner"),
    this.noPartners,
    this.referFields);
    return form;
  }

  renderForm() {
    const show = Boolean(this.detail) && mayOfferReferral(this.detail) && this.partners !== null;
    this.form.hidden = !show;
    if (!show) return;
    const none = this.partners.length === 0;
    this.noPartners.hidden = !none;
    this.referFields.hidden = none;
    fillSelect(this.partnerSelect, [{ value: "", label: "Choose…" },
      ...this.partners.map((p) => ({ value: p.code, label: `${p.name} (${p.code})` }))]);
    const tasks = this.detail.tasks.filter((task) => OPEN_TASK_STATES.has(task.state));
    fillSelect(this.taskSelect, [{ value: "", label: "The whole case" },
      ...tasks.map((task) => ({ value: String(task.id), label: `Task: ${task.title}` }))]);
  }

  async submitReferral(form) {
    this.referError.textContent = "";
    const partnerCode = this.partnerSelect.value;
    if (!partnerCode) {
      this.referError.textContent = "Please choose a partner agency.";
      this.partnerSelect.focus();
      return;
    }
    const values = { partnerCode };
    if (this.taskSelect.value) values.taskId = this.taskSelect.value;
    const note = this.note.value.trim();
    if (note) values.note = note;
    this.referSubmit.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      const message = await this.run("refer", values);
      if (message === null) {
        const partner = this.partners.find((p) => p.code === partnerCode);
        this.note.value = "";
        this.partnerSelect.value = "";
        this.taskSelect.value = "";
        this.announce(`Referred to ${partner?.name ?? partnerCode}: waiting for delivery.`);
      } else if (message) {
        this.referError.textContent = message;
      }
    } finally {
      this.referSubmit.disabled = false;
      form.removeAttribute("aria-busy");
    }
  }
}

/** Replace a select's options, keeping the chosen value while it is still offered. */
function fillSelect(select, options) {
  const chosen = select.value;
  const same = select.options.length === options.length
    && options.every((option, i) => select.options[i].value === option.value && select.options[i].text === option.label);
  if (same) return;
  select.replaceChildren(...options.map((option) => h("option", { value: option.value }, option.label)));
  select.value = options.some((option) => option.value === chosen) ? chosen : "";
}
