// The one label table of the pages: every value of the API's enums (statuses, stages, actions,
// event types, resolutions, channels, priorities, notification kinds…) in plain words, per
// language, in lib/labels/<code>.json, keyed "<EnumName>.<VALUE>" as the schema names them, so a
// raw value (INSPECTION_IN_PROGRESS) is never shown. The dashboard reads it in English; a page in
// another language calls useLabelLanguage. The portal addresses the requester, so it words a
// status, stage and resolution for them ("Waiting for your answer") in its own catalogues
// (portal/labels.js). tests/test_enum_labels.py reads the enums from the schema and refuses a
// value without a label in every language, here and in the portal's catalogues.

import english from "./labels/en.json" with { type: "json" };

const loaded = { en: english };
let table = english;

/** Use the labels of `code` (loaded once); English stays the fallback. */
export async function useLabelLanguage(code) {
  if (!loaded[code]) {
    const response = await fetch(new URL(`./labels/${code}.json`, import.meta.url));
    if (!response.ok) throw new Error(`no label table for "${code}"`);
    loaded[code] = await response.json();
  }
  table = loaded[code];
}

/**
 * The label of `value` of the enum `kind` ("CaseStatus", "AWAITING_INFO"). A value the table
 * lacks (a server newer than the page) is shown in words made from it, never as the raw value.
 */
export function label(kind, value) {
  if (value === null || value === undefined || value === "") return "";
  const key = `${kind}.${value}`;
  return table[key] ?? english[key] ?? wordsOf(value);
}

function wordsOf(value) {
  const text = String(value).toLowerCase().replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const statusLabel = (status) => label("CaseStatus", status);
export const stageLabel = (stage) => label("CaseStage", stage);
export const actionLabel = (action) => label("CaseAction", action);
export const eventTypeLabel = (type) => label("CaseEventType", type);
export const resolutionLabel = (code) => label("ResolutionCode", code);
export const channelLabel = (channel) => label("Channel", channel);
export const priorityLabel = (priority) => label("Priority", priority);
export const notificationKindLabel = (kind) => label("NotificationKind", kind);
