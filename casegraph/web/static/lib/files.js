// Files for a case in the pages (issue 18): a drop zone around a file input, a check of each file
// before a byte is sent, and a progress bar while one is uploaded. No words of its own: each page
// passes its texts (the portal's from its catalogues), so this serves both.
//
//   const zone = dropZone({ input, title, hint, testid: "attachment-drop" });
//   const refusal = refusalBeforeSending(file, limits.attachmentMaxBytes); // "tooLarge" | "type" | "empty" | null
//   const row = uploadRow(file.name, t("attachments.sending", { name }));   row.progress(0.5); row.done(words)

import { h, replace } from "./dom.js";

// What the server accepts (domain/attachments.ALLOWED_TYPES); it sniffs the bytes itself, this
// only spares the person the wait for a refusal the page can already see.
export const ATTACHABLE_TYPES = [
  "image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "text/plain",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
  "application/vnd.oasis.opendocument.presentation",
];
export const ATTACHABLE_EXTENSIONS = [
  ".jpg", ".jpeg", ".png", ".gif", ".webp", ".pdf", ".txt", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp",
];
export const ATTACHABLE = [...ATTACHABLE_TYPES, ...ATTACHABLE_EXTENSIONS].join(",");

/** Why the server would refuse this file whatever it holds, or null: checked before sending. */
export function refusalBeforeSending(file, maxBytes) {
  if (maxBytes && file.size > maxBytes) return "tooLarge";
  if (file.size === 0) return "empty";
  const name = file.name.toLowerCase();
  const known = ATTACHABLE_TYPES.includes(file.type) || ATTACHABLE_EXTENSIONS.some((ext) => name.endsWith(ext));
  return known ? null : "type";
}

/** The server's limits for files (GET /pages/limits.json), fetched once per page. */
let limitsPromise = null;
export function fileLimits() {
  limitsPromise ??= fetch("/pages/limits.json")
    .then((response) => (response.ok ? response.json() : {}))
    .catch(() => ({}));
  return limitsPromise;
}

/**
 * A zone files can be dropped on, around `input` (type=file): the input stays the way in by
 * keyboard and screen reader (its label names the zone's purpose), dropping fills the same input
 * and fires its change event, so a page handles picked and dropped files alike.
 */
export function dropZone({ input, title, hint, testid }) {
  input.classList.add("drop-zone-input");
  const zone = h(
    "div",
    { class: "drop-zone", testid },
    h("label", { for: input.id, class: "drop-zone-title" }, title),
    hint ? h("p", { class: "muted drop-zone-hint" }, hint) : null,
    input,
  );
  const over = (event) => {
    if (!event.dataTransfer?.types?.includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("drag-over");
  };
  zone.addEventListener("dragenter", over);
  zone.addEventListener("dragover", over);
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove("drag-over");
  });
  zone.addEventListener("drop", (event) => {
    zone.classList.remove("drag-over");
    if (!event.dataTransfer?.files?.length) return;
    event.preventDefault();
    input.files = event.dataTransfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
  return zone;
}

/** One file's line while it is sent: its name, a progress bar, then what became of it. */
export function uploadRow(name, label) {
  const bar = h("progress", { max: 1, value: 0, testid: "upload-progress", "aria-label": label });
  const outcome = h("span", { class: "upload-outcome", testid: "upload-outcome" });
  const row = h("li", { class: "upload-row", testid: "upload-row", "data-file": name }, h("span", { class: "upload-name" }, name), bar, outcome);
  return {
    element: row,
    progress(fraction) {
      bar.value = Math.max(0, Math.min(1, fraction));
    },
    done(words, ok) {
      bar.value = ok ? 1 : bar.value;
      bar.hidden = true;
      row.dataset.outcome = ok ? "attached" : "refused";
      replace(outcome, words);
    },
  };
}
