// "My requests": the constituent's cases, most recently changed first, a page at a time ("Show
// more"), all of them or only the open or the finished ones, with how many there are. Rows are
// rebuilt from the in-memory summaries, which the mutations' payloads and the live feed keep current.

import { h, replace } from "../lib/dom.js";
import { t } from "./i18n.js";
import { formatTime, needsMe, statusLabel } from "./labels.js";

export function renderMyCases(list, cases, { selectedId, onOpen, ranked = false }) {
  // Search results come most relevant first, as the server ranked them; the rest most recent first.
  const sorted = ranked ? [...cases] : [...cases].sort((a, b) => (b.updatedAt ?? "").localeCompare(a.updatedAt ?? ""));
  if (!sorted.length) {
    replace(list, h("li", { class: "empty", testid: "cases-none" }, t(ranked ? "cases.search.none" : "cases.none")));
    return;
  }
  replace(
    list,
    sorted.map((item) =>
      h(
        "li",
        {
          testid: "my-case",
          class: ["my-case", item.id === selectedId && "selected", needsMe(item.status) && "needs-me"],
          "data-case-id": item.id,
          "data-number": item.number,
          "data-status": item.status,
          "data-stage": item.stage,
        },
        h(
          "button",
          { type: "button", "aria-current": item.id === selectedId ? "true" : null, onClick: () => onOpen(item.id) },
          h(
            "span",
            { class: "my-case-head" },
            h("span", { class: "case-number" }, item.number),
            h("span", { class: ["badge", `status-${item.status}`] }, statusLabel(item.status)),
          ),
          h("span", { class: "my-case-title" }, item.title || t("common.noTitle")),
          h(
            "span",
            { class: "my-case-meta" },
            item.caseType?.name ?? "",
            item.updatedAt ? [" · ", t("cases.updated", { time: formatTime(item.updatedAt) })] : "",
          ),
        ),
      ),
    ),
  );
}

// Finished: nothing more will happen to the request. Everything else (drafts and proposed
// solutions included) still waits for someone.
const FINISHED = ["CLOSED", "CANCELLED"];
const UNFINISHED = [
  "DRAFT", "NEW", "OPEN", "AWAITING_INFO", "INSPECTION_IN_PROGRESS", "WORK_IN_PROGRESS",
  "WORK_ASSIGNMENT_IN_PROGRESS", "READY_FOR_DECISION", "RESOLVED",
];

/** The `cases` filter of each choice (catalogue keys cases.filter.<choice>). */
export const CASE_FILTERS = { all: null, open: { status: UNFINISHED }, closed: { status: FINISHED } };

/** The `cases` filter of a choice and the search box's words (the server's search: number, title,
 * description and public comments of the visitor's own requests). */
export function casesFilter(choice, search) {
  const base = CASE_FILTERS[choice];
  return search ? { ...(base ?? {}), text: search } : base;
}

/** The search box of "My requests", built once (redrawing it would lose the visitor's typing). */
export function renderCasesSearch(initial, onSearch) {
  let timer = null;
  const input = h("input", {
    id: "cases-search", testid: "cases-search", type: "search", value: initial, autocomplete: "off",
    placeholder: t("cases.search.placeholder"),
    onInput: () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => onSearch(input.value.trim()), 300);
    },
  });
  return h("form", {
    class: "cases-search", role: "search", "aria-label": t("cases.search.label"),
    onSubmit: (event) => { event.preventDefault(); window.clearTimeout(timer); onSearch(input.value.trim()); },
  }, h("label", { for: input.id }, t("cases.search.label")), " ", input);
}

export function matchesFilter(filter, status) {
  const statuses = CASE_FILTERS[filter]?.status;
  return !statuses || statuses.includes(status);
}

export function renderCasesFilter(container, chosen, onChoose) {
  const select = h(
    "select",
    { id: "cases-filter", testid: "cases-filter", onChange: (event) => onChoose(event.target.value) },
    Object.keys(CASE_FILTERS).map((choice) =>
      h("option", { value: choice, selected: choice === chosen }, t(`cases.filter.${choice}`))),
  );
  replace(container, h("label", { for: select.id }, t("cases.filter.label")), " ", select);
}

/** "Showing 20 of 57" and the button for the next page (while there is one). */
export function renderCasesFooter(container, { shown, total, more, loading, onMore }) {
  replace(
    container,
    !total ? null : h("p", { class: "muted", testid: "cases-count", "data-shown": shown, "data-total": total },
      t("cases.count", { shown, total })),
    more
      ? h("button", { type: "button", testid: "cases-more", disabled: loading, "aria-busy": loading ? "true" : null,
        onClick: onMore }, loading ? t("common.loading") : t("cases.more"))
      : null,
  );
}
