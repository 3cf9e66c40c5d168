// Plain words for a member of the public, in their language (catalogue keys status.*,
// resolution.*, stage.*, happened.*). The server speaks in enum values (AWAITING_INFO,
// PROPOSE_SOLUTION…); the portal shows these labels and keeps the enum values in data-* attributes
// (data-status, data-stage) for styling and for the end-to-end tests.

import { formatTime, t } from "./i18n.js";

export { formatTime };

const STATUSES = new Set([
  "DRAFT", "NEW", "OPEN", "AWAITING_INFO", "INSPECTION_IN_PROGRESS", "WORK_IN_PROGRESS",
  "WORK_ASSIGNMENT_IN_PROGRESS", "READY_FOR_DECISION", "RESOLVED", "CLOSED", "CANCELLED",
]);

export function statusLabel(status) {
  return STATUSES.has(status) ? t(`status.${status}`) : status;
}

/** Statuses that ask the constituent to do something. */
export function needsMe(status) {
  return status === "AWAITING_INFO" || status === "RESOLVED";
}

const RESOLUTIONS = new Set([
  "SOLVED", "SOLVED_WORKAROUND", "SOLVED_BY_PARTNER", "NOT_SOLVED_NOT_REPRODUCIBLE",
  "NOT_SOLVED_TOO_COSTLY", "DUPLICATE", "NO_RESPONSE",
]);

export function resolutionLabel(code) {
  return RESOLUTIONS.has(code) ? t(`resolution.${code}`) : code ?? "";
}

// The steps a request goes through, per workflow, as the progress indicator shows them.
const STEPS = {
  PUBLIC_SERVICE: ["INTAKE", "REVIEW", "PROCESS", "DECISION"],
  CUSTOMER_SERVICE: ["INTAKE", "DECISION"],
};

/** [{stage, label, state: "done" | "current" | "todo"}] for a case's progress indicator. */
export function progressSteps(workflow, stage, status) {
  if (stage === "DRAFT") return [{ stage: "DRAFT", label: t("stage.DRAFT"), state: "current" }];
  const steps = STEPS[workflow] ?? STEPS.CUSTOMER_SERVICE;
  const at = steps.indexOf(stage);
  const finished = status === "CLOSED" || status === "CANCELLED";
  return steps.map((code, index) => ({
    stage: code,
    label: code === "DECISION" && finished ? statusLabel(status) : t(`stage.${code}`),
    state: index < at || (finished && index === at) ? "done" : index === at ? "current" : "todo",
  }));
}

// What happened, told to the requester: the catalogue key of its sentence. Events without a line
// here (timers…) are not shown.
const HAPPENINGS = {
  CREATE: (mine, _, toStatus) =>
    toStatus === "DRAFT" ? "happened.CREATE.draft" : mine ? "happened.CREATE.mine" : "happened.CREATE.registered",
  SUBMIT: () => "happened.SUBMIT",
  ASSIGN: () => "happened.ASSIGN",
  ACCEPT: () => "happened.ACCEPT",
  ASSIGN_TO_ME: () => "happened.ACCEPT",
  // An update that changed the status is the requester's answer to a question (it resumes the case).
  // Staff activity the requester cannot see (work notes, internal flags) is not announced: its
  // details (filtered for the requester by the server) then hold no comment and no visible change.
  UPDATE: (mine, transitioned, _, details) =>
    transitioned
      ? "happened.UPDATE.answered"
      : mine
        ? "happened.UPDATE.mine"
        : details?.comment || details?.changed?.length
          ? "happened.UPDATE.staff"
          : null,
  CLOSE: (mine) => (mine ? "happened.CLOSE.mine" : "happened.CLOSE.theirs"),
  AUTO_CLOSE: () => "happened.CLOSE.theirs",
  CANCEL: (mine) => (mine ? "happened.CANCEL.mine" : "happened.CANCEL.theirs"),
  // Files: the server names them (attached/detached) only when the requester may see them.
  ADD_ATTACHMENT: (mine, _, __, details) =>
    mine ? "happened.ADD_ATTACHMENT.mine" : details?.attached ? "happened.ADD_ATTACHMENT.staff" : null,
  REMOVE_ATTACHMENT: (_, __, ___, details) => (details?.detached ? "happened.REMOVE_ATTACHMENT" : null),
  // The virus check's verdict: told only when it refused a file the requester may see.
  SCAN_ATTACHMENT: (_, __, ___, details) =>
    details?.refused ? "happened.SCAN_ATTACHMENT.refused" : details?.unscannable ? "happened.SCAN_ATTACHMENT.unscannable" : null,
};
// Actions told in one sentence whoever did them (catalogue key happened.<ACTION>).
for (const action of [
  "BEGIN_REVIEW", "REQUEST_INFO", "RESUME", "REQUEST_INSPECTION", "COMPLETE_INSPECTION", "START_WORK",
  "ASSIGN_WORK", "COMPLETE_WORK", "PROPOSE_SOLUTION", "ACCEPT_SOLUTION", "REJECT_SOLUTION",
  "SUBMIT_SURVEY", "MARK_DUPLICATE", "SPLIT_CASE",
]) {
  HAPPENINGS[action] = () => `happened.${action}`;
}

/** A sentence for one history event, or null for events the requester need not read. */
export function happening(event, mine) {
  const say = HAPPENINGS[event.action];
  const key = say ? say(mine, event.type === "CASE_TRANSITIONED", event.toStatus, event.details) : null;
  return key === null ? null : t(key);
}
