// Plain words for a member of the public. The server speaks in enum values (AWAITING_INFO,
// PROPOSE_SOLUTION…); the portal shows these labels and keeps the enum values in data-* attributes
// (data-status, data-stage) for styling and for the end-to-end tests.

const STATUS = {
  DRAFT: "Draft, not sent yet",
  NEW: "Received",
  OPEN: "Being handled",
  AWAITING_INFO: "Waiting for your answer",
  INSPECTION_IN_PROGRESS: "Inspection under way",
  WORK_IN_PROGRESS: "Work under way",
  WORK_ASSIGNMENT_IN_PROGRESS: "Work under way",
  READY_FOR_DECISION: "Decision coming soon",
  RESOLVED: "Solution proposed: please check it",
  CLOSED: "Closed",
  CANCELLED: "Cancelled",
};

export function statusLabel(status) {
  return STATUS[status] ?? status;
}

/** Statuses that ask the constituent to do something. */
export function needsMe(status) {
  return status === "AWAITING_INFO" || status === "RESOLVED";
}

const RESOLUTION = {
  SOLVED: "Solved",
  SOLVED_WORKAROUND: "Solved with a workaround",
  SOLVED_BY_PARTNER: "Solved by a partner organisation",
  NOT_SOLVED_NOT_REPRODUCIBLE: "Not solved: we could not find the problem",
  NOT_SOLVED_TOO_COSTLY: "Not solved: the fix would cost too much",
  DUPLICATE: "Already reported by someone else",
  NO_RESPONSE: "Closed without an answer from you",
};

export function resolutionLabel(code) {
  return RESOLUTION[code] ?? code ?? "";
}

// The steps a request goes through, per workflow, as the progress indicator shows them.
const STEPS = {
  PUBLIC_SERVICE: [
    ["INTAKE", "Received"],
    ["REVIEW", "Under review"],
    ["PROCESS", "Work"],
    ["DECISION", "Outcome"],
  ],
  CUSTOMER_SERVICE: [
    ["INTAKE", "Received"],
    ["DECISION", "Outcome"],
  ],
};

/** [{stage, label, state: "done" | "current" | "todo"}] for a case's progress indicator. */
export function progressSteps(workflow, stage, status) {
  if (stage === "DRAFT") return [{ stage: "DRAFT", label: "Draft", state: "current" }];
  const steps = STEPS[workflow] ?? STEPS.CUSTOMER_SERVICE;
  const at = steps.findIndex(([code]) => code === stage);
  const finished = status === "CLOSED" || status === "CANCELLED";
  return steps.map(([code, label], index) => ({
    stage: code,
    label: code === "DECISION" && finished ? statusLabel(status) : label,
    state: index < at || (finished && index === at) ? "done" : index === at ? "current" : "todo",
  }));
}

// What happened, told to the requester. Events without a line here (timers…) are not shown.
const HAPPENINGS = {
  CREATE: (mine, _, toStatus) =>
    toStatus === "DRAFT" ? "You saved a draft" : mine ? "You sent your request" : "Your request was registered",
  SUBMIT: () => "You sent your request",
  ASSIGN: () => "Your request was given to a member of staff",
  ACCEPT: () => "A member of staff took on your request",
  ASSIGN_TO_ME: () => "A member of staff took on your request",
  // An update that changed the status is the requester's answer to a question (it resumes the case).
  // Staff activity the requester cannot see (work notes, internal flags) is not announced: its
  // details (filtered for the requester by the server) then hold no comment and no visible change.
  UPDATE: (mine, transitioned, _, details) =>
    transitioned
      ? "You answered our question"
      : mine
        ? "You added information"
        : details?.comment || details?.changed?.length
          ? "We added information"
          : null,
  BEGIN_REVIEW: () => "Review started",
  REQUEST_INFO: () => "We asked you a question",
  RESUME: () => "Work on your request resumed",
  REQUEST_INSPECTION: () => "An inspection was arranged",
  COMPLETE_INSPECTION: () => "The inspection was done",
  START_WORK: () => "Work started",
  ASSIGN_WORK: () => "Work was scheduled",
  COMPLETE_WORK: () => "The work was completed",
  PROPOSE_SOLUTION: () => "We proposed a solution",
  ACCEPT_SOLUTION: () => "You accepted the solution",
  REJECT_SOLUTION: () => "You told us the problem is not solved",
  CLOSE: (mine) => (mine ? "You closed your request" : "Your request was closed"),
  AUTO_CLOSE: () => "Your request was closed",
  CANCEL: (mine) => (mine ? "You withdrew your request" : "Your request was cancelled"),
  SUBMIT_SURVEY: () => "You rated our service",
  MARK_DUPLICATE: () => "Your request was linked to an earlier report of the same problem",
  SPLIT_CASE: () => "Your request was split into separate requests",
};

/** A sentence for one history event, or null for events the requester need not read. */
export function happening(event, mine) {
  const say = HAPPENINGS[event.action];
  return say ? say(mine, event.type === "CASE_TRANSITIONED", event.toStatus, event.details) : null;
}

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : DATE_TIME.format(date);
}
