// The queue of my groups: filters, one query per change (first 50, "load more" for the rest),
// rows kept current by the live feed (updated in place, moved to the top when they change,
// dropped when they leave the filter, added when a new case arrives).

import { h, clear } from "../lib/dom.js";
import { QUEUE_QUERY } from "./queries.js";
import {
  ALL_STATUSES, OPEN_STATUSES, formatDateTime, formatRelative, personName, priorityLabel, stageLabel, statusLabel,
} from "./format.js";

const PAGE_SIZE = 50;

export class QueueView {
  constructor({ api, onOpen, onError, onLoaded }) {
    this.api = api;
    this.onOpen = onOpen;
    this.onError = onError;
    this.onLoaded = onLoaded;
    this.me = null;
    this.rows = []; // case rows, newest change first
    this.rowElements = new Map(); // case id -> <tr>
    this.total = 0;
    this.endCursor = null;
    this.hasMore = false;
    this.openCaseId = null;
    this.loadSeq = 0;
    this.eventsDuringLoad = null; // a list while a query runs
    this.filter = { status: "", group: "", assigned: "", search: "" };
    this.build();
    // Keep "updated 5 min ago" true without asking the server.
    this.clock = window.setInterval(() => this.rows.length && this.render(), 60000);
  }

  build() {
    const onChange = () => this.readFilters();
    this.statusSelect = h("select", { id: "filter-status", testid: "filter-status", onChange },
      h("option", { value: "" }, "All open"),
      ALL_STATUSES.map((status) => h("option", { value: status }, statusLabel(status))),
      h("option", { value: "ALL" }, "All, closed included"));
    this.groupSelect = h("select", { id: "filter-group", testid: "filter-group", onChange },
      h("option", { value: "" }, "All my groups"));
    this.assignedSelect = h("select", { id: "filter-assigned", testid: "filter-assigned", onChange },
      h("option", { value: "" }, "Anyone"),
      h("option", { value: "ME" }, "Assigned to me"),
      h("option", { value: "UNASSIGNED" }, "Unassigned"));
    this.searchInput = h("input", {
      id: "filter-search", testid: "filter-search", type: "search", placeholder: "Case number or words", autocomplete: "off",
      title: "Searches case numbers, titles, descriptions, comments and work notes, in every status unless one is chosen",
      onInput: () => {
        window.clearTimeout(this.searchTimer);
        this.searchTimer = window.setTimeout(onChange, 300);
      },
    });
    const field = (id, label, control) => h("div", { class: "field" }, h("label", { for: id }, label), control);
    this.summary = h("p", { class: "queue-summary muted", testid: "queue-summary", "aria-live": "polite" }, "Loading…");
    this.body = h("tbody", {});
    this.table = h("table", { class: "queue-table" },
      h("caption", { class: "visually-hidden" }, "Cases in the queue, most recently changed first"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Number"),
        h("th", { scope: "col" }, "Title"),
        h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col" }, "Priority"),
        h("th", { scope: "col" }, "Assignee"))),
      this.body);
    this.moreButton = h("button", { type: "button", testid: "queue-more", hidden: true, onClick: () => this.load({ more: true }) }, "Load more");
    this.element = h("section", { class: "panel queue-panel", "aria-labelledby": "queue-heading" },
      h("div", { class: "panel-heading" },
        h("h2", { id: "queue-heading" }, "Queue"),
        h("button", { type: "button", class: "link", testid: "queue-refresh", onClick: () => this.load() }, "Refresh")),
      h("form", { class: "filters", role: "search", "aria-label": "Filter the queue", onSubmit: (e) => { e.preventDefault(); onChange(); } },
        field("filter-status", "Status", this.statusSelect),
        field("filter-group", "Group", this.groupSelect),
        field("filter-assigned", "Assigned", this.assignedSelect),
        field("filter-search", "Search", this.searchInput)),
      this.summary,
      h("div", { class: "queue-scroll", testid: "queue" }, this.table),
      h("div", { class: "form-actions" }, this.moreButton));
  }

  readFilters() {
    this.filter = {
      status: this.statusSelect.value,
      group: this.groupSelect.value,
      assigned: this.assignedSelect.value,
      search: this.searchInput.value.trim(),
    };
    this.load();
  }

  variables(after = null) {
    const f = this.filter;
    const filter = {};
    // A search looks through every case (closed ones too) unless a status is chosen.
    if (f.status === "") {
      if (!f.search) filter.status = OPEN_STATUSES;
    } else if (f.status !== "ALL") {
      filter.status = [f.status];
    }
    if (f.group) filter.assignmentGroupCode = [f.group];
    if (f.assigned === "ME" && this.me) filter.assignedToId = this.me.id;
    if (f.assigned === "UNASSIGNED") filter.unassigned = true;
    if (f.search) filter.text = f.search;
    return { filter, first: PAGE_SIZE, after };
  }

  /** One query: me (for my groups) and a page of the queue. */
  async load({ more = false } = {}) {
    const seq = ++this.loadSeq;
    // Events arriving while the query runs may be newer than its answer: applied again after it.
    this.eventsDuringLoad = [];
    this.element.setAttribute("aria-busy", "true");
    this.moreButton.disabled = true;
    try {
      const data = await this.api.request(QUEUE_QUERY, this.variables(more ? this.endCursor : null));
      if (seq !== this.loadSeq) return; // a newer filter won
      this.setMe(data.me);
      const page = data.cases;
      const nodes = page.edges.map((edge) => edge.node);
      if (more) {
        const known = new Set(this.rows.map((row) => row.id));
        this.rows.push(...nodes.filter((node) => !known.has(node.id)));
      } else {
        this.rows = nodes;
      }
      this.total = page.totalCount;
      this.endCursor = page.pageInfo.endCursor;
      this.hasMore = page.pageInfo.hasNextPage;
      this.render();
      if (!more) this.jumpToTypedNumber(nodes);
      const recent = this.eventsDuringLoad;
      this.eventsDuringLoad = null;
      for (const event of recent) this.applyEvent(event);
      this.onLoaded?.(data.me);
    } catch (error) {
      if (seq === this.loadSeq) this.onError(error);
    } finally {
      if (seq === this.loadSeq) {
        this.eventsDuringLoad = null;
        this.element.removeAttribute("aria-busy");
        this.moreButton.disabled = false;
      }
    }
  }

  setMe(me) {
    const first = this.me === null;
    this.me = me;
    if (!first) return;
    for (const group of me.groups) this.groupSelect.append(h("option", { value: group.code }, group.name));
    this.groupSelect.disabled = me.groups.length === 0;
  }

  matches(row) {
    const f = this.filter;
    if (row.deletedAt) return false;
    if (f.status === "" && !f.search && !OPEN_STATUSES.includes(row.status)) return false;
    if (f.status !== "" && f.status !== "ALL" && row.status !== f.status) return false;
    if (f.group && row.assignmentGroup?.code !== f.group) return false;
    if (f.assigned === "ME" && row.assignedTo?.id !== this.me?.id) return false;
    if (f.assigned === "UNASSIGNED" && row.assignedTo) return false;
    return true;
  }

  /** A live event: update, move, add or drop the case's row. Returns what happened. */
  applyEvent(event) {
    const row = event.case;
    if (!row) return null;
    this.eventsDuringLoad?.push(event);
    const index = this.rows.findIndex((known) => known.id === row.id);
    const known = index >= 0 ? this.rows[index] : null;
    if (known && known.version > row.version) return null; // an older picture than the one shown
    if (!this.matches(row)) {
      if (!known) return null;
      this.rows.splice(index, 1);
      this.total = Math.max(0, this.total - 1);
      this.render();
      return "removed";
    }
    if (this.filter.search) {
      // Search results are in the server's relevance order, and whether a case matches depends
      // on its description and comments, which a row does not carry: rows shown are kept up to
      // date in place; a new match appears on the next search or refresh.
      if (!known) return null;
      this.rows[index] = row;
      this.render();
      this.flash(row.id);
      return "updated";
    }
    if (known) this.rows.splice(index, 1);
    // A case new to the list: counted unless it may have been on a page not loaded yet.
    else if (!this.hasMore || event.action === "CREATE") this.total += 1;
    // Most recently changed first, as the query orders them.
    const at = this.rows.findIndex((other) => (other.updatedAt ?? "") <= (row.updatedAt ?? ""));
    this.rows.splice(at < 0 ? this.rows.length : at, 0, row);
    this.render();
    this.flash(row.id);
    return known ? "updated" : "added";
  }

  /** A case changed through this page (a mutation payload): refresh its row at once. */
  updateFromCase(detail) {
    this.applyEvent({ case: detail });
  }

  /** A case number typed exactly opens that case (the search ranks it first). */
  jumpToTypedNumber(nodes) {
    const typed = this.filter.search.replace(/^#/, "").toUpperCase();
    if (!/^[A-Z]{2}\d+$/.test(typed) || nodes[0]?.number !== typed) return;
    const target = `#/case/${encodeURIComponent(nodes[0].id)}`;
    if (window.location.hash !== target) window.location.hash = target;
  }

  setOpenCase(caseId) {
    this.openCaseId = caseId;
    for (const [id, tr] of this.rowElements) tr.classList.toggle("selected", id === caseId);
  }

  flash(caseId) {
    const tr = this.rowElements.get(caseId);
    if (!tr) return;
    tr.classList.remove("flash");
    void tr.offsetWidth; // restart the animation
    tr.classList.add("flash");
  }

  render() {
    const shown = this.rows.length;
    this.summary.textContent = shown === 0
      ? "No cases match these filters."
      : `Showing ${shown} of ${Math.max(this.total, shown)} case${this.total === 1 ? "" : "s"}.`;
    this.moreButton.hidden = !this.hasMore;
    const seen = new Set();
    this.rows.forEach((row, i) => {
      seen.add(row.id);
      let tr = this.rowElements.get(row.id);
      if (!tr) {
        tr = h("tr", { class: "queue-row", testid: "queue-row", onClick: (event) => {
          if (event.target.closest("a")) return; // the link opens it through the hash
          this.onOpen(row.id);
        } });
        this.rowElements.set(row.id, tr);
      }
      fillRow(tr, row, this.openCaseId);
      if (this.body.children[i] !== tr) this.body.insertBefore(tr, this.body.children[i] ?? null);
    });
    for (const [id, tr] of this.rowElements) {
      if (!seen.has(id)) {
        tr.remove();
        this.rowElements.delete(id);
      }
    }
  }
}

function fillRow(tr, row, openCaseId) {
  tr.dataset.caseId = row.id;
  tr.dataset.number = row.number;
  tr.dataset.status = row.status;
  tr.dataset.stage = row.stage;
  tr.dataset.version = String(row.version);
  tr.classList.toggle("selected", row.id === openCaseId);
  tr.classList.toggle("escalated", Boolean(row.escalated));
  clear(tr).append(
    h("td", { class: "number" }, h("a", { href: `#/case/${encodeURIComponent(row.id)}`, testid: "row-number" }, row.number)),
    h("td", { class: "title" },
      h("span", { testid: "row-title" }, row.title || "(no title)"),
      h("span", { class: "sub muted" }, [row.caseType?.name, row.assignmentGroup?.name].filter(Boolean).join(" · "))),
    h("td", {}, h("span", { class: ["badge", `status-${row.status}`], testid: "row-status", title: stageLabel(row.stage) }, statusLabel(row.status)),
      h("span", { class: "sub muted", testid: "row-stage" }, stageLabel(row.stage))),
    h("td", { class: "priority" },
      h("span", { class: ["badge", `priority-${row.priority}`], testid: "row-priority" }, priorityLabel(row.priority)),
      row.escalated ? h("span", { class: "badge breached", title: "An SLA of this case was breached" }, "SLA") : null),
    h("td", { class: "assignee" },
      h("span", { testid: "row-assignee" }, row.assignedTo ? personName(row.assignedTo) : h("span", { class: "muted" }, "Unassigned")),
      h("span", { class: "sub muted", title: `Updated ${formatDateTime(row.updatedAt)}` }, `updated ${formatRelative(row.updatedAt)}`)),
  );
}
