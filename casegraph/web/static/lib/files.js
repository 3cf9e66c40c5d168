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

/**
 * A file's download as a plain link (`<a href download>`): the browser sends the download cookie
 * (HttpOnly, set with the session), so no token and no blob: copy is involved. Links live
 * minutes, so a click first asks `freshUrl()` for a new one (a page left open) and follows that.
 * No link (a file not cleared by the scanner, or purged): a disabled button with the same words.
 */
export function downloadLink({ file, text, freshUrl, testid = "attachment-download" }) {
  if (!file.url) return h("button", { type: "button", class: "link", testid, disabled: true }, text);
  const anchor = h("a", { href: file.url, download: file.filename, class: "link", testid }, text);
  let following = false;
  anchor.addEventListener("click", async (event) => {
    if (following) {
      following = false;
      return;
    }
    event.preventDefault();
    try {
      const fresh = await freshUrl();
      if (fresh) anchor.href = fresh;
    } catch {
      // The link in hand may still be in its time: follow it.
    }
    following = true;
    anchor.click();
  });
  return anchor;
}

/** An image's thumbnail as a plain `<img src>`; `unavailable`: its alt text when it cannot load. */
export function thumbnailImage({ src, alt, unavailable, testid = "attachment-thumbnail" }) {
  const img = h("img", { class: "attachment-thumbnail", testid, alt, src });
  img.addEventListener("error", () => { img.alt = unavailable; }, { once: true });
  return img;
}
