// A server's refusal in the reader's words: recognised by its code (and, for a file, its reason),
// never by its message, which is the server's English for developers. A code the portal does not
// know gets a general sentence, still in the reader's language.

import { t } from "./i18n.js";

const BY_CODE = {
  NOT_FOUND: () => t("refusal.NOT_FOUND"),
  PERMISSION_DENIED: () => t("refusal.PERMISSION_DENIED"),
  TRANSITION_NOT_ALLOWED: () => t("refusal.TRANSITION_NOT_ALLOWED"),
  VALIDATION_FAILED: () => t("refusal.VALIDATION_FAILED"),
  VERSION_CONFLICT: () => t("refusal.VERSION_CONFLICT"),
  UNAUTHENTICATED: () => t("error.UNAUTHENTICATED"),
  RATE_LIMITED: () => t("error.RATE_LIMITED"),
  INTERNAL_ERROR: () => t("error.INTERNAL_ERROR"),
};

/** One refusal ({code, field, reason, message}) in the reader's words. */
export function refusalWords(error) {
  const say = BY_CODE[error?.code ?? ""];
  return say ? say() : t("refusal.generic");
}

/** Several refusals in the reader's words, each sentence once. */
export function refusalsWords(errors) {
  return [...new Set(errors.map(refusalWords))].join(" ");
}

// A file's refusal by its reason (UserError.reason): which of attachments.refused.* says it.
const FILE_REASONS = {
  TOO_LARGE: "tooLarge",
  EMPTY: "empty",
  TYPE: "type",
  UNREADABLE: "unreadable",
  CASE_FULL: "caseFull",
};

/** Which of the portal's words (attachments.refused.<which>) a server's refusal of a file is. */
export function fileRefusal(error) {
  if (error?.field !== "file") return "notAttached";
  return FILE_REASONS[error.reason ?? ""] ?? "notAttached";
}
