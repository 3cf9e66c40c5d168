// Sending files to a case from the portal (issue 18): the case's attach form and the new-request
// form share it. Each file gets a line with its progress, then what became of it, in the reader's
// language: a file the page can already tell is refused (too large, a kind the server does not
// take, empty) is never sent.

import { replace } from "../lib/dom.js";
import { fileLimits, refusalBeforeSending, uploadRow } from "../lib/files.js";
import { ADD_ATTACHMENT } from "./documents.js";
import { IdempotencyKey } from "./forms.js";
import { formatNumber, t } from "./i18n.js";
import { fileRefusal } from "./refusals.js";

const MEBIBYTE = 1024 * 1024;

/**
 * Send `files` to the case one after another, each with its line in `list` (emptied first).
 * Returns { latest, refused }: the case as the last accepted file left it (null if none was), and
 * how many were not attached. Throws only when the session has ended.
 */
export async function sendFiles(api, caseId, files, list) {
  replace(list);
  const { attachmentMaxBytes = null } = await fileLimits();
  let latest = null;
  let refused = 0;
  for (const file of files) {
    const row = uploadRow(file.name, t("attachments.sending", { name: file.name }));
    list.append(row.element);
    const refusal = refusalBeforeSending(file, attachmentMaxBytes);
    if (refusal) {
      row.done(refusalWords(refusal, file.name, attachmentMaxBytes), false);
      refused += 1;
      continue;
    }
    try {
      const input = { caseId, file: null, idempotencyKey: new IdempotencyKey().value };
      const sent = await api.upload(ADD_ATTACHMENT, { input }, { "input.file": file }, { onProgress: (part) => row.progress(part) });
      const payload = sent.addAttachment;
      if (payload.errors?.length) {
        row.done(refusalWords(fileRefusal(payload.errors[0]), file.name, attachmentMaxBytes), false);
        refused += 1;
      } else {
        row.done(t("attachments.sent"), true);
        latest = payload.case;
      }
    } catch (error) {
      if (error.code === "UNAUTHENTICATED") throw error;
      const reason = error.code === "PAYLOAD_TOO_LARGE" || error.status === 413 ? "tooLarge" : "failed";
      row.done(refusalWords(reason, file.name, attachmentMaxBytes), false);
      refused += 1;
    }
  }
  return { latest, refused };
}

/**
 * Check files before anything is sent, each refused one with its line in `list` (emptied first);
 * true if all may be sent. The new-request form files nothing while one is refused.
 */
export async function checkFiles(files, list) {
  replace(list);
  const { attachmentMaxBytes = null } = await fileLimits();
  let fine = true;
  for (const file of files) {
    const refusal = refusalBeforeSending(file, attachmentMaxBytes);
    if (!refusal) continue;
    const row = uploadRow(file.name, t("attachments.sending", { name: file.name }));
    row.done(refusalWords(refusal, file.name, attachmentMaxBytes), false);
    list.append(row.element);
    fine = false;
  }
  return fine;
}

function refusalWords(reason, name, maxBytes) {
  const megabytes = maxBytes ? formatNumber(Math.floor((maxBytes / MEBIBYTE) * 10) / 10) : "";
  return t(`attachments.refused.${reason}`, { name, megabytes });
}
