// One case: summary, description, actions (from availableActions), referrals to and from partner
// agencies (referrals.js), SLA timers, tasks, comments, work notes and history. The view is built
// once per case and its data parts are refilled on each change, so text being typed in a form
// survives live updates.
//
// Live: the case's own `caseEvents` feed resumes after the last event the history shows; an
// event newer than that refetches the case (one query; bursts are merged). That includes the
// REFERRAL_UPDATE events a partner's answers become; a failed delivery attempt that will be
// retried records no event, so while a referral waits for delivery the case is refetched now
// and then to show why (its lastError).

import { CallerHistory } from "./caller-history.js";
import { h, clear } from "../lib/dom.js";
import { ATTACHABLE, downloadLink, dropZone, fileLimits, refusalBeforeSending, thumbnailImage, uploadRow } from "../lib/files.js";
import { GraphQLRequestError } from "../lib/graphql.js";
import { ACTIONS, REFERRAL_MUTATIONS, TASK_MUTATIONS, offeredActions, runsAtOnce } from "./actions.js";
import { buildActionForm } from "./action-form.js";
import {
  CASE_EVENTS, CASE_FILE_LINKS, CASE_QUERY, HISTORY_PAGE_QUERY, REFERRAL_PARTNERS_QUERY, RETRY_REFERRAL, caseMutation,
} from "./queries.js";
import { ReferralsSection, describeReferralEvent, refersCases } from "./referrals.js";
import {
  actionLabel, channelLabel, formatBytes, formatDateTime, formatDuration, formatValue, humanize, label, personName, priorityLabel,
  resolutionLabel, stageLabel, statusLabel,
} from "./format.js";

const REFETCH_DELAY = 120; // ms: one refetch for a burst of events
const MAX_HISTORY_PAGES = 20;
const PENDING_REFERRAL_POLL = 10000; // ms: refetch while a referral waits for delivery

// A file's scan status in words (the dashboard is in English; the portal says it in the reader's language).
// What the page can tell before sending a file (the server checks again, and says why it refuses).
const PAGE_REFUSALS = {
  tooLarge: (maxBytes) => `Too large: files may be up to ${formatBytes(maxBytes)}.`,
  type: () => "This kind of file cannot be attached: images, PDF, plain text and office documents can.",
  empty: () => "The file is empty.",
};

export class CaseView {
  constructor({ api, me, people, onChanged, onClose, onError, announce }) {
    this.api = api;
    this.me = me;
    this.people = people; // () => [{id, name, roles}] suggestions for person fields
    this.onChanged = onChanged;
    this.onClose = onClose;
    this.onError = onError;
    this.announce = announce;
    this.caseId = null;
    this.detail = null;
    this.lastEventId = 0; // the newest event the shown data includes
    this.ownEventIds = new Set();
    this.deferredEvents = [];
    this.mutating = false;
    this.unsubscribe = null;
    this.openAction = null;
    this.actionForm = null;
    this.element = h("section", { class: "panel case-panel", "aria-labelledby": "case-heading" });
    this.showPlaceholder();
    this.timerTick = window.setInterval(() => this.detail && this.renderTimers(), 30000);
  }

  showPlaceholder() {
    this.element.removeAttribute("data-testid");
    this.element.removeAttribute("data-case-id");
    this.element.replaceChildren(
      h("h2", { id: "case-heading" }, "Case"),
      h("p", { class: "empty" }, "Choose a case in the queue to see it here."));
  }

  close() {
    window.clearTimeout(this.refetchTimer);
    this.refetchTimer = null;
    window.clearTimeout(this.pendingPoll);
    this.pendingPoll = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.caseId = null;
    this.detail = null;
    this.showPlaceholder();
  }

  async open(caseId) {
    if (caseId === this.caseId && this.detail) return;
    this.unsubscribe?.();
    this.unsubscribe = null;
    window.clearTimeout(this.pendingPoll);
    this.pendingPoll = null;
    this.caseId = caseId;
    this.detail = null;
    this.partners = null;
    this.lastEventId = 0;
    this.ownEventIds.clear();
    this.openAction = null;
    this.actionForm = null;
    this.conflict = false;
    this.changedBy = null;
    this.element.dataset.caseId = caseId;
    this.element.removeAttribute("data-testid");
    this.element.replaceChildren(h("h2", { id: "case-heading" }, "Case"), h("p", { class: "muted", role: "status" }, "Loading the case…"));
    this.loadPartners(caseId);
    const loaded = await this.fetch();
    if (!loaded || caseId !== this.caseId) return;
    // Subscribe after the first load, resuming after the newest event it showed: no gap, no duplicate.
    this.unsubscribe = this.api.subscribe(CASE_EVENTS, () => ({ caseId, after: this.lastEventId ? String(this.lastEventId) : null }), {
      next: (data, errors) => {
        if (data?.caseEvents) this.onEvent(data.caseEvents);
        else if (errors?.length) this.onError(new GraphQLRequestError(errors, 0));
      },
      error: (errors) => this.onError(new GraphQLRequestError(errors?.length ? errors : [{ message: "The case's live feed stopped." }], 0)),
    });
  }

  /** An event of this case (from its feed or the queue's): refetch if it is newer than what is shown. */
  onEvent(event) {
    const id = Number(event.id);
    if (!this.detail || id <= this.lastEventId) return;
    if (this.ownEventIds.has(event.id)) return;
    if (this.mutating) {
      // Most likely our own mutation's event, arriving before its answer: decide afterwards.
      this.deferredEvents.push(event);
      return;
    }
    if (event.actor && event.actor.id !== this.me.id) {
      this.changedBy = { name: personName(event.actor), action: event.action, at: Date.now() };
    }
    this.scheduleRefetch();
  }

  /** The partner agencies the refer form offers (staff only; loaded again with each case opened). */
  async loadPartners(caseId) {
    if (!refersCases(this.me.roles)) return;
    try {
      const data = await this.api.request(REFERRAL_PARTNERS_QUERY, {});
      if (caseId !== this.caseId) return;
      this.partners = data.referralPartners;
      this.referrals?.setPartners(this.partners);
    } catch (error) {
      if (caseId === this.caseId) this.onError(error);
    }
  }

  scheduleRefetch() {
    if (this.refetchTimer) return;
    this.refetchTimer = window.setTimeout(async () => {
      this.refetchTimer = null;
      if (this.fetching) {
        this.refetchAgain = true;
        return;
      }
      await this.fetch();
    }, REFETCH_DELAY);
  }

  /** Load the case (one query; further history pages only for long histories). */
  async fetch() {
    const caseId = this.caseId;
    if (!caseId) return false; // closed meanwhile
    this.fetching = true;
    try {
      const data = await this.api.request(CASE_QUERY, { id: caseId });
      if (caseId !== this.caseId) return false;
      if (!data.case) {
        this.element.replaceChildren(
          h("h2", { id: "case-heading" }, "Case not found"),
          h("p", { testid: "case-not-found" }, "This case does not exist, was deleted, or you may no longer see it."),
          h("button", { type: "button", testid: "case-close", onClick: () => this.onClose() }, "Back to the queue"));
        this.detail = null;
        return false;
      }
      await this.apply(data.case);
      return true;
    } catch (error) {
      this.onError(error);
      return false;
    } finally {
      this.fetching = false;
      if (this.refetchAgain) {
        this.refetchAgain = false;
        this.scheduleRefetch();
      }
    }
  }

  async apply(detail) {
    const history = detail.history;
    let edges = history.edges;
    let pageInfo = history.pageInfo;
    for (let page = 0; pageInfo.hasNextPage && page < MAX_HISTORY_PAGES; page += 1) {
      const more = await this.api.request(HISTORY_PAGE_QUERY, { id: detail.id, after: pageInfo.endCursor });
      if (!more.case) break;
      edges = edges.concat(more.case.history.edges);
      pageInfo = more.case.history.pageInfo;
    }
    const events = edges.map((edge) => edge.node);
    if (detail.id !== this.caseId) return;
    if (this.detail && this.detail.version > detail.version) return; // a late answer, older than what is shown
    this.detail = { ...detail, events };
    this.lastEventId = Math.max(this.lastEventId, ...events.map((event) => Number(event.id)));
    this.render();
    this.onChanged?.(detail);
  }

  // ---- rendering -------------------------------------------------------------------------------

  render() {
    if (this.element.dataset.testid !== "case-view") this.buildSkeleton();
    const c = this.detail;
    this.element.dataset.caseId = c.id;
    this.element.dataset.status = c.status;
    this.element.dataset.version = String(c.version);
    this.number.textContent = c.number;
    this.title.textContent = c.title || "(no title)";
    const set = (key, text, attrs = {}) => {
      const el = this.fields[key];
      el.textContent = text;
      for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
    };
    // The enum values stay in data-* attributes (styling, tests); people read the labels.
    set("status", statusLabel(c.status), { class: `badge status-${c.status}`, "data-status": c.status });
    set("stage", stageLabel(c.stage), { "data-stage": c.stage });
    set("priority", priorityLabel(c.priority), { "data-priority": String(c.priority) });
    set("assignee", c.assignedTo ? personName(c.assignedTo) : "Unassigned");
    set("group", c.assignmentGroup?.name ?? "—");
    set("type", c.caseType?.name ?? "—");
    set("requester", personName(c.requester));
    set("channel", channelLabel(c.channel), { "data-channel": c.channel });
    set("submitted", formatDateTime(c.submittedAt ?? c.createdAt));
    set("version", String(c.version));
    this.fields.inspector.parentElement.hidden = !c.inspector;
    set("inspector", c.inspector ? personName(c.inspector) : "");
    // Mail to the requester goes out with this as Reply-To (or the token in the subject): only
    // a reply carrying it is added to the case (e-mail intake).
    this.fields.reply.parentElement.hidden = !(c.replyAddress || c.replyToken);
    set("reply", c.replyAddress ?? (c.replyToken ? `[${c.replyToken}] in the subject` : ""));
    this.description.textContent = c.description || "No description.";
    this.description.classList.toggle("empty", !c.description);
    this.renderNotices();
    this.renderResolution();
    this.renderActions();
    this.renderTimers();
    this.renderReferrals();
    this.renderTasks();
    this.renderNotes(this.comments, c.comments, "comment", "No comments yet.");
    this.renderNotes(this.workNotes, c.workNotes, "work-note", "No work notes yet.");
    const updatable = c.availableActions.includes("UPDATE");
    for (const form of [this.commentForm, this.workNoteForm]) form.setEnabled(updatable);
    this.renderAttachments();
    this.renderHistory();
    this.callerHistory.show(c);
  }

  buildSkeleton() {
    this.number = h("span", { class: "case-number", testid: "case-number" });
    this.title = h("span", { class: "case-title", testid: "case-title" });
    const field = (key, label, testid) => {
      const value = h("dd", { testid });
      this.fields[key] = value;
      return h("div", { class: `summary-${key}` }, h("dt", {}, label), value);
    };
    this.fields = {};
    const summary = h("dl", { class: "case-summary" },
      field("status", "Status", "case-status"),
      field("stage", "Stage", "case-stage"),
      field("priority", "Priority", "case-priority"),
      field("assignee", "Assignee", "case-assignee"),
      field("group", "Group", "case-group"),
      field("type", "Case type", "case-type"),
      field("requester", "Requester", "case-requester"),
      field("channel", "Channel", "case-channel"),
      field("submitted", "Submitted", "case-submitted"),
      field("inspector", "Inspector", "case-inspector"),
      field("reply", "Reply address", "case-reply-address"),
      field("version", "Version", "case-version"));
    this.notices = h("div", { class: "case-notices", "aria-live": "polite" });
    this.description = h("p", { class: "pre-wrap", testid: "case-description" });
    this.resolution = h("div", { class: "resolution", testid: "case-resolution", hidden: true });
    this.actionsBar = h("div", { class: "actions-bar", testid: "actions", role: "group", "aria-label": "Actions" });
    this.actionSlot = h("div", { class: "action-slot" });
    this.actionStatus = h("p", { class: "form-error", testid: "actions-error", role: "alert" });
    this.timers = h("ul", { class: "plain sla-list", testid: "sla-timers" });
    this.tasks = h("ul", { class: "plain task-list", testid: "tasks" });
    this.comments = h("ol", { class: "plain timeline", testid: "comments" });
    this.workNotes = h("ol", { class: "plain timeline", testid: "work-notes" });
    this.history = h("ol", { class: "plain timeline history", testid: "history" });
    this.callerHistory = new CallerHistory({ api: this.api, onError: (error) => this.onError(error) });
    this.attachments = h("ul", { class: "plain attachment-list", testid: "attachments" });
    this.attachmentForm = this.buildAttachmentForm();
    this.commentForm = this.noteForm({ kind: "comment", field: "comment", label: "Add a public comment (the requester sees it)", button: "Post comment" });
    this.workNoteForm = this.noteForm({ kind: "work-note", field: "workNote", label: "Add an internal work note (staff only)", button: "Add work note" });
    this.referrals = new ReferralsSection({
      run: (kind, values) => this.runReferral(kind, values),
      retry: (referral) => this.retryReferral(referral),
      announce: (text) => this.announce(text),
    });
    if (this.partners) this.referrals.setPartners(this.partners);
    const section = (id, heading, ...children) => h("section", { class: "case-section", "aria-labelledby": id }, h("h3", { id }, heading), ...children);
    this.element.dataset.testid = "case-view";
    this.element.replaceChildren(
      h("div", { class: "case-heading" },
        h("h2", { id: "case-heading" }, this.number, " ", this.title),
        h("button", { type: "button", class: "link", testid: "case-close", onClick: () => this.onClose() }, "Close")),
      this.notices,
      summary,
      section("case-description-heading", "Description", this.description),
      section("case-caller-heading", "The caller", this.callerHistory.element),
      this.resolution,
      section("case-actions-heading", "Actions", this.actionsBar, this.actionStatus, this.actionSlot),
      section("case-referrals-heading", "Referrals", this.referrals.element),
      h("div", { class: "case-columns" },
        section("case-sla-heading", "SLA timers", this.timers),
        section("case-tasks-heading", "Tasks", this.tasks)),
      h("div", { class: "case-columns" },
        section("case-comments-heading", "Comments", this.comments, this.commentForm),
        section("case-work-notes-heading", "Work notes", this.workNotes, this.workNoteForm)),
      section("case-attachments-heading", "Attachments", this.attachments, this.attachmentForm),
      section("case-history-heading", "History", this.history));
  }

  renderNotices() {
    clear(this.notices);
    const c = this.detail;
    if (this.conflict) {
      this.notices.append(h("div", { class: "notice conflict", testid: "version-conflict", role: "alert" },
        h("strong", {}, "Someone else changed this case while you were working on it. "),
        "It has been reloaded with their changes (now version ", String(c.version), "); check it and try again.",
        " ", h("button", { type: "button", class: "link", onClick: () => { this.conflict = false; this.renderNotices(); } }, "Dismiss")));
    }
    if (this.changedBy && Date.now() - this.changedBy.at < 60000) {
      this.notices.append(h("p", { class: "notice info", testid: "case-live-change" },
        `Changed live by ${this.changedBy.name} (${actionLabel(this.changedBy.action).toLowerCase()}).`));
    }
    if (c.deletedAt) {
      this.notices.append(h("p", { class: "notice danger", testid: "case-deleted", role: "status" },
        `This case was deleted on ${formatDateTime(c.deletedAt)}: it no longer appears in any listing; an administrator can restore it.`));
    }
    if (c.escalated) this.notices.append(h("p", { class: "notice danger" }, "Escalated: an SLA of this case was breached."));
  }

  renderResolution() {
    const c = this.detail;
    clear(this.resolution);
    const parts = [];
    if (c.resolutionCode || c.resolutionNotes) {
      parts.push(h("p", {}, h("strong", {}, "Resolution: "), h("span", { testid: "case-resolution-code", "data-resolution": c.resolutionCode ?? "" }, resolutionLabel(c.resolutionCode)),
        c.resolvedAt ? h("span", { class: "muted" }, ` — ${formatDateTime(c.resolvedAt)}`) : null));
      if (c.resolutionNotes) parts.push(h("p", { class: "pre-wrap", testid: "case-resolution-notes" }, c.resolutionNotes));
    }
    if (c.cancelReason) parts.push(h("p", {}, h("strong", {}, "Cancelled: "), c.cancelReason));
    if (c.inspectionFindings) parts.push(h("p", {}, h("strong", {}, "Inspection findings: "), c.inspectionFindings));
    if (c.survey) {
      parts.push(h("p", { testid: "case-survey" }, h("strong", {}, "Survey: "), `${c.survey.rating} / 5`,
        c.survey.comment ? ` — “${c.survey.comment}”` : ""));
    }
    this.resolution.hidden = parts.length === 0;
    this.resolution.append(...parts);
  }

  renderActions() {
    const c = this.detail;
    clear(this.actionsBar);
    const offered = offeredActions(c);
    if (!offered.length) this.actionsBar.append(h("p", { class: "empty" }, "No action is available to you on this case now."));
    for (const action of offered) {
      const spec = ACTIONS[action];
      this.actionsBar.append(h("button", {
        type: "button", testid: `action-${action}`, "data-action": action,
        class: [spec.primary && "primary", spec.danger && "danger", this.openAction === action && "active"],
        "aria-expanded": runsAtOnce(action) ? null : String(this.openAction === action),
        onClick: (event) => this.startAction(action, event.currentTarget),
      }, spec.label));
    }
    // Keep an open form (and what was typed) while its action is still offered.
    if (this.openAction && !offered.includes(this.openAction)) {
      const ranIt = this.openAction === this.runningAction; // our own submission moved the case on
      this.openAction = null;
      this.actionForm = null;
      clear(this.actionSlot);
      if (!ranIt) this.actionStatus.textContent = "The action you had open is no longer available after the latest change.";
    }
  }

  startAction(action, button) {
    this.actionStatus.textContent = "";
    if (runsAtOnce(action)) {
      this.closeActionForm();
      button.disabled = true;
      const buttons = [...this.actionsBar.querySelectorAll("button")];
      for (const other of buttons) other.disabled = true;
      this.runAction(action, {}).then((message) => {
        if (message) this.actionStatus.textContent = message;
      }).finally(() => {
        for (const other of buttons) if (other.isConnected) other.disabled = false;
      });
      return;
    }
    if (this.openAction === action) {
      this.actionForm?.querySelector("input, textarea, select, button[type=submit]")?.focus();
      return;
    }
    this.openAction = action;
    this.actionForm = buildActionForm({
      action, detail: this.detail, people: this.people(),
      onSubmit: (values) => this.runAction(action, values),
      onCancel: () => this.closeActionForm(),
    });
    this.actionSlot.replaceChildren(this.actionForm);
    this.renderActions();
    this.actionForm.querySelector("input, textarea, select, button[type=submit]")?.focus();
  }

  closeActionForm() {
    this.openAction = null;
    this.actionForm = null;
    clear(this.actionSlot);
    if (this.detail) this.renderActions();
  }

  /** Run a case mutation; returns an error text for the form, or null when done. */
  async runAction(action, values) {
    const spec = ACTIONS[action];
    const input = { caseId: this.detail.id, ...values };
    if (!spec.noVersion) input.expectedVersion = this.detail.version;
    this.runningAction = action;
    let result;
    try {
      result = await this.mutate(spec.mutation, spec.input, input);
    } finally {
      this.runningAction = null;
    }
    if (result === null) {
      this.closeActionForm();
      this.announce(`${spec.label.replace(/…$/, "")}: done. The case is now ${statusLabel(this.detail?.status)}.`);
      this.actionsBar.querySelector("button")?.focus();
    }
    return result;
  }

  /**
   * Send a mutation whose payload carries the case; apply it. Returns null on success, else the
   * message to show next to the form (payload errors), or "" when a banner shows it.
   */
  async mutate(name, inputType, input, files = null, uploadOptions = {}) {
    this.mutating = true;
    this.deferredEvents = [];
    try {
      return await this.sendMutation(name, inputType, input, files, uploadOptions);
    } finally {
      this.mutating = false;
      const deferred = this.deferredEvents;
      this.deferredEvents = [];
      for (const event of deferred) this.onEvent(event);
    }
  }

  async sendMutation(name, inputType, input, files = null, uploadOptions = {}) {
    let payload;
    try {
      const document = caseMutation(name, inputType);
      const data = files ? await this.api.upload(document, { input }, files, uploadOptions) : await this.api.request(document, { input });
      payload = data[name];
    } catch (error) {
      this.onError(error);
      return "";
    }
    if (payload.errors?.length) {
      if (payload.errors.some((e) => e.code === "VERSION_CONFLICT")) {
        this.conflict = true;
        await this.fetch();
        return `Not saved: someone else changed the case meanwhile. It has been reloaded (now version ${this.detail?.version ?? "?"}): check the changes and submit again.`;
      }
      return payload.errors.map((e) => e.message).join(" ");
    }
    this.conflict = false;
    if (payload.event) this.ownEventIds.add(payload.event.id);
    if (payload.case) await this.apply(payload.case);
    else await this.fetch(); // e.g. deleted: the view says the case is gone
    return null;
  }

  noteForm({ kind, field, label, button }) {
    const id = `${kind}-text`;
    const text = h("textarea", { id, testid: `${kind}-text`, rows: 3 });
    const error = h("p", { class: "form-error", testid: `${kind}-error`, role: "alert" });
    const submit = h("button", { type: "submit", class: "primary", testid: `${kind}-submit` }, button);
    const hint = h("p", { class: "muted", hidden: true }, "Notes cannot be added to this case now.");
    let enabled = true;
    const form = h("form", {
      class: "note-form",
      onSubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        const body = text.value.trim();
        if (!body) {
          error.textContent = "Write something first.";
          return;
        }
        submit.disabled = true;
        form.setAttribute("aria-busy", "true");
        try {
          const message = await this.mutate("updateCase", "UpdateCaseInput", {
            caseId: this.detail.id, expectedVersion: this.detail.version, [field]: body,
          });
          if (message === null) text.value = "";
          else if (message) error.textContent = message;
        } finally {
          submit.disabled = !enabled;
          form.removeAttribute("aria-busy");
        }
      },
    },
    h("label", { for: id }, label), text, error, hint, h("div", { class: "form-actions" }, submit));
    form.setEnabled = (on) => {
      enabled = on;
      text.disabled = !on;
      submit.disabled = !on || form.hasAttribute("aria-busy");
      hint.hidden = on;
    };
    return form;
  }

  buildAttachmentForm() {
    const picker = h("input", { type: "file", id: "attachment-file", testid: "attachment-file", accept: ATTACHABLE, multiple: true });
    const internal = h("input", { type: "checkbox", id: "attachment-internal", testid: "attachment-internal" });
    const error = h("p", { class: "form-error", testid: "attachment-error", role: "alert" });
    const uploads = h("ul", { class: "uploads", testid: "uploads", "aria-live": "polite" });
    const submit = h("button", { type: "submit", class: "primary", testid: "attachment-submit" }, "Attach");
    const zone = dropZone({
      input: picker,
      title: "Attach files (images, PDF, text, office documents; photos lose their location data)",
      hint: "Drop files here, or choose them: several at once if you like.",
      testid: "attachment-drop",
    });
    const form = h("form", {
      class: "attachment-form",
      onSubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        const files = [...(picker.files ?? [])];
        if (!files.length) {
          error.textContent = "Choose a file first.";
          return;
        }
        submit.disabled = true;
        form.setAttribute("aria-busy", "true");
        try {
          await this.sendFiles(files, internal.checked, uploads);
          picker.value = "";
          internal.checked = false;
        } finally {
          submit.disabled = false;
          form.removeAttribute("aria-busy");
        }
      },
    },
    zone,
    h("label", { class: "inline", for: "attachment-internal" }, internal, " Internal (staff only)"),
    error,
    uploads,
    h("div", { class: "form-actions" }, submit));
    return form;
  }

  /** Each file in turn with its progress; one the page can tell is refused is never sent. */
  async sendFiles(files, internal, uploads) {
    clear(uploads);
    const { attachmentMaxBytes = null } = await fileLimits();
    for (const file of files) {
      const row = uploadRow(file.name, `Sending ${file.name}`);
      uploads.append(row.element);
      const refusal = refusalBeforeSending(file, attachmentMaxBytes);
      if (refusal) {
        row.done(PAGE_REFUSALS[refusal](attachmentMaxBytes), false);
        continue;
      }
      // The version as it is now: the previous file's upload moved it on.
      const input = { caseId: this.detail.id, expectedVersion: this.detail.version, file: null, internal };
      const message = await this.mutate("addAttachment", "AddAttachmentInput", input, { "input.file": file },
        { onProgress: (part) => row.progress(part) });
      row.done(message === null ? "Attached." : message || "Not attached.", message === null);
    }
  }

  renderAttachments() {
    const c = this.detail;
    clear(this.attachments);
    const files = c.attachments ?? [];
    if (!files.length) this.attachments.append(h("li", { class: "empty" }, "No attachments."));
    const removable = (c.attachmentActions ?? []).includes("REMOVE_ATTACHMENT");
    for (const file of files) {
      const preview = file.thumbnailUrl
        ? thumbnailImage({ src: file.thumbnailUrl, alt: `Preview of ${file.filename}`, unavailable: "Preview unavailable" })
        : null;
      this.attachments.append(h("li", { testid: "attachment", "data-attachment-id": file.id, "data-scan-status": file.scanStatus, "data-internal": String(file.internal) },
        preview,
        h("div", {},
          downloadLink({ file, text: file.filename, freshUrl: () => this.freshFileUrl(file) }),
          h("div", { class: "meta" }, file.internal ? "Internal · " : "", formatBytes(file.size), " · ",
            h("span", { class: ["scan-status", `scan-${String(file.scanStatus).toLowerCase()}`], testid: "attachment-scan" }, label("ScanStatus", file.scanStatus)), " · ",
            personName(file.uploadedBy) || "System", " · ", h("time", { datetime: file.createdAt }, formatDateTime(file.createdAt))),
          removable ? h("button", { type: "button", class: "link", testid: "attachment-remove", onClick: () => this.removeAttachment(file) }, "Remove") : null)));
    }
    this.attachmentForm.hidden = !(c.attachmentActions ?? []).includes("ADD_ATTACHMENT");
  }

  /** A new link for the file (links live minutes; the view may have been open longer). */
  async freshFileUrl(file) {
    const fresh = (await this.api.request(CASE_FILE_LINKS, { id: this.detail.id }))?.case?.attachments ?? [];
    return fresh.find((candidate) => candidate.id === file.id)?.url ?? null;
  }

  async removeAttachment(file) {
    const reason = window.prompt(`Why remove ${file.filename}? (kept in the history; the file itself is deleted)`);
    if (reason === null) return;
    const message = await this.mutate("removeAttachment", "RemoveAttachmentInput", { attachmentId: file.id, reason });
    if (message) this.actionStatus.textContent = message;
  }

  renderNotes(list, notes, testid, emptyText) {
    clear(list);
    if (!notes.length) list.append(h("li", { class: "empty" }, emptyText));
    for (const note of notes) {
      list.append(h("li", { testid, "data-note-id": note.id },
        h("div", { class: "meta" }, personName(note.author) || "System", " · ", h("time", { datetime: note.createdAt }, formatDateTime(note.createdAt))),
        h("div", { class: "pre-wrap", testid: `${testid}-body` }, note.body)));
    }
  }

  renderReferrals() {
    this.referrals.render(this.detail, { staff: refersCases(this.me.roles) });
    // A delivery attempt that failed and will be retried records no event: look again later.
    window.clearTimeout(this.pendingPoll);
    this.pendingPoll = null;
    const waiting = (this.detail.referrals ?? []).some((r) => r.direction === "OUTBOUND" && r.status === "PENDING");
    if (waiting) {
      this.pendingPoll = window.setTimeout(() => {
        this.pendingPoll = null;
        this.scheduleRefetch();
      }, PENDING_REFERRAL_POLL);
    }
  }

  /** referCase / acceptReferral / rejectReferral on this case; null when done, else the message. */
  runReferral(kind, values) {
    const spec = REFERRAL_MUTATIONS[kind];
    return this.mutate(spec.mutation, spec.input, { caseId: this.detail.id, expectedVersion: this.detail.version, ...values });
  }

  /**
   * Send a FAILED referral again. Nothing is recorded on the case (no event, same version): show
   * the answer (PENDING) at once, then refetch; its delivery comes as a REFERRAL_UPDATE event.
   */
  async retryReferral(referral) {
    const caseId = this.caseId;
    let payload;
    try {
      payload = (await this.api.request(RETRY_REFERRAL, { id: referral.id })).retryReferral;
    } catch (error) {
      this.onError(error);
      return "";
    }
    if (payload.errors?.length) return payload.errors.map((e) => e.message).join(" ");
    if (caseId !== this.caseId || !this.detail) return null;
    const sent = payload.referral;
    this.detail = { ...this.detail, referrals: this.detail.referrals.map((r) => (r.id === sent.id ? sent : r)) };
    this.render();
    await this.fetch();
    return null;
  }

  renderTimers() {
    const c = this.detail;
    clear(this.timers);
    if (!c.slaTimers.length) this.timers.append(h("li", { class: "empty" }, "No SLA applies to this case."));
    for (const timer of c.slaTimers) {
      let state;
      let tone = "";
      if (timer.stopped) {
        state = timer.breached ? `breached — stopped after ${formatDuration(timer.elapsedSeconds)}` : `met in ${formatDuration(timer.elapsedSeconds)}`;
        tone = timer.breached ? "breached" : "met";
      } else if (timer.breached || timer.remainingSeconds < 0) {
        state = `breached — overdue by ${formatDuration(-timer.remainingSeconds)}`;
        tone = "breached";
      } else if (timer.paused) {
        state = `paused — ${formatDuration(timer.remainingSeconds)} left (waiting for the requester)`;
        tone = "paused";
      } else {
        state = `${formatDuration(timer.remainingSeconds)} left`;
        if (timer.dueAt) state += ` — due ${formatDateTime(timer.dueAt)}`;
        tone = timer.remainingSeconds < timer.targetMinutes * 15 ? "warning" : "running";
      }
      const used = Math.min(1, timer.elapsedSeconds / Math.max(1, timer.targetMinutes * 60));
      this.timers.append(h("li", {
        class: ["sla-timer", `tone-${tone}`], testid: "sla-timer",
        "data-kind": timer.kind, "data-phase": timer.phase, "data-breached": String(timer.breached),
      },
      h("div", {}, h("strong", {}, label("SlaTimerKind", timer.kind)), ` (target ${formatDuration(timer.targetMinutes * 60)}): `, h("span", { testid: "sla-timer-state" }, state)),
      h("div", { class: "meter", role: "meter", "aria-label": `${label("SlaTimerKind", timer.kind)} time used`, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(used * 100)) },
        h("span", { style: { width: `${Math.round(used * 100)}%` } }))));
    }
  }

  renderTasks() {
    const c = this.detail;
    clear(this.tasks);
    if (!c.tasks.length) this.tasks.append(h("li", { class: "empty" }, "No tasks."));
    const caseOpen = !["RESOLVED", "CLOSED", "CANCELLED"].includes(c.status);
    for (const task of c.tasks) {
      const finished = task.state === "DONE" || task.state === "CANCELLED";
      const buttons = h("div", { class: "task-actions" });
      const slot = h("div", { class: "task-form-slot" });
      if (caseOpen && !finished) {
        if (task.state === "OPEN") buttons.append(this.taskButton(task, "start", slot));
        buttons.append(this.taskButton(task, "complete", slot), this.taskButton(task, "cancel", slot));
      }
      this.tasks.append(h("li", { class: "task", testid: "task", "data-task-id": task.id, "data-state": task.state },
        h("div", {}, h("strong", { testid: "task-title" }, task.title), " ",
          h("span", { class: ["badge", `task-${task.state}`], testid: "task-state" }, label("TaskState", task.state))),
        h("div", { class: "meta" },
          task.assignee ? `Assignee: ${personName(task.assignee)}` : "Unassigned",
          task.dueAt ? ` · due ${formatDateTime(task.dueAt)}` : "",
          task.finishedAt ? ` · finished ${formatDateTime(task.finishedAt)}` : ""),
        task.note ? h("div", { class: "pre-wrap" }, task.note) : null,
        buttons, slot));
    }
  }

  taskButton(task, kind, slot) {
    const spec = TASK_MUTATIONS[kind];
    return h("button", {
      type: "button", testid: `task-${kind}`,
      onClick: async (event) => {
        const button = event.currentTarget;
        if (!spec.field) {
          button.disabled = true;
          const message = await this.mutate(spec.mutation, spec.input, { taskId: task.id, expectedVersion: this.detail.version });
          if (button.isConnected) button.disabled = false;
          if (message) slot.replaceChildren(h("p", { class: "form-error", role: "alert" }, message));
          return;
        }
        const id = `task-${task.id}-${spec.field.name}`;
        const input = h("input", { id, type: "text", testid: `task-${spec.field.name}` });
        const error = h("p", { class: "form-error", role: "alert" });
        const submit = h("button", { type: "submit", class: "primary", testid: "task-submit" }, `${spec.label} task`);
        slot.replaceChildren(h("form", {
          class: "inline-form",
          onSubmit: async (e) => {
            e.preventDefault();
            const value = input.value.trim();
            if (spec.field.required && !value) {
              error.textContent = `Please give a ${spec.field.label.toLowerCase()}.`;
              return;
            }
            submit.disabled = true;
            const variables = { taskId: task.id, expectedVersion: this.detail.version };
            if (value) variables[spec.field.name] = value;
            const message = await this.mutate(spec.mutation, spec.input, variables);
            if (submit.isConnected) submit.disabled = false;
            if (message) error.textContent = message;
          },
        },
        h("label", { for: id }, spec.field.label), input, error,
        h("div", { class: "form-actions" }, submit,
          h("button", { type: "button", onClick: () => clear(slot) }, "Never mind"))));
        input.focus();
      },
    }, spec.label);
  }

  renderHistory() {
    const events = this.detail.events;
    clear(this.history);
    for (const event of events) {
      const where = (stage, status) => `${stageLabel(stage)} · ${statusLabel(status)}`;
      const move = event.fromStatus && (event.fromStatus !== event.toStatus || event.fromStage !== event.toStage)
        ? `${where(event.fromStage, event.fromStatus)} → ${where(event.toStage, event.toStatus)}`
        : event.fromStatus ? "" : `→ ${where(event.toStage, event.toStatus)}`;
      const details = describeReferralEvent(event, this.detail.tasks) ?? describeDetails(event.details);
      this.history.append(h("li", {
        testid: "history-item", "data-action": event.action, "data-type": event.type, "data-sequence": String(event.sequence),
      },
      h("div", {}, h("strong", {}, actionLabel(event.action)), move ? h("span", { class: "move" }, ` ${move}`) : null),
      h("div", { class: "meta" }, event.actor ? personName(event.actor) : "System", " · ",
        h("time", { datetime: event.occurredAt }, formatDateTime(event.occurredAt)), ` · v${event.version}`),
      details ? h("div", { class: "details", testid: "history-details" }, details) : null));
    }
  }
}

// Details whose values are enum values: shown by their labels.
const DETAIL_ENUMS = {
  resolutionCode: "ResolutionCode", status: "CaseStatus", stage: "CaseStage", channel: "Channel", remoteStatus: "CaseStatus",
  remoteStage: "CaseStage", kind: "SlaTimerKind", scanStatus: "ScanStatus", outcome: "ReferralOutcome", state: "TaskState",
};

/** An event's details as readable text: {question: true} → "question given". */
function describeDetails(details) {
  if (!details || typeof details !== "object") return "";
  return Object.entries(details)
    .filter(([, value]) => value !== null && value !== false)
    .map(([key, value]) => {
      const name = humanize(key.replace(/([a-z])([A-Z])/g, "$1_$2")).toLowerCase();
      if (value === true) return `${name} given`;
      const kind = DETAIL_ENUMS[key];
      return `${name}: ${kind && typeof value === "string" ? label(kind, value) : formatValue(value)}`;
    })
    .join(" · ");
}
