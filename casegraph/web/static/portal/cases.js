// "My requests": the constituent's cases, most recently changed first. Rows are rebuilt from the
// in-memory summaries, which the mutations' payloads and the live feed keep current.

import { h, replace } from "../lib/dom.js";
import { t } from "./i18n.js";
import { formatTime, needsMe, statusLabel } from "./labels.js";

export function renderMyCases(list, cases, { selectedId, onOpen }) {
  const sorted = [...cases].sort((a, b) => (b.updatedAt ?? "").localeCompare(a.updatedAt ?? ""));
  if (!sorted.length) {
    replace(list, h("li", { class: "empty" }, t("cases.none")));
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
