// availableActions → the mutation each one runs and the inputs it needs (schema.graphql input
// types; the action → mutation table is schema/root.py). Field names are the GraphQL input
// fields, so `input-<field>` test ids and the payload's `errors[].field` line up.
//
// Field kinds: "text", "textarea", "select" (options), "person" (an id, with suggestions),
// "tasks" (a list of work-order lines), "number".

import { resolutionLabel } from "../lib/labels.js";

export const RESOLUTION_CODES = [
  "SOLVED", "SOLVED_WORKAROUND", "SOLVED_BY_PARTNER", "NOT_SOLVED_NOT_REPRODUCIBLE",
  "NOT_SOLVED_TOO_COSTLY", "DUPLICATE", "NO_RESPONSE",
];
const LEVELS = [{ value: "1", label: "1 High" }, { value: "2", label: "2 Medium" }, { value: "3", label: "3 Low" }];

export const ACTIONS = {
  SUBMIT: { mutation: "submitCase", input: "SubmitCaseInput", label: "Submit" },
  ASSIGN: {
    mutation: "assignCase", input: "AssignCaseInput", label: "Assign…",
    fields: [{ name: "assigneeId", label: "Assign to", kind: "select", required: true, options: "members" }],
  },
  ACCEPT: { mutation: "acceptCase", input: "AcceptCaseInput", label: "Accept" },
  ASSIGN_TO_ME: { mutation: "assignToMe", input: "AssignToMeInput", label: "Assign to me", primary: true },
  UPDATE: {
    mutation: "updateCase", input: "UpdateCaseInput", label: "Edit details…", onlyChanged: true,
    // Only the fields the server lets this viewer change (Case.editableFields): a group agent who
    // may only add notes gets no edit form at all.
    editable: true,
    fields: [
      { name: "title", label: "Title", kind: "text", current: (c) => c.title },
      { name: "description", label: "Description", kind: "textarea", current: (c) => c.description },
      { name: "impact", label: "Impact", kind: "select", options: LEVELS, number: true, current: (c) => c.impact },
      { name: "urgency", label: "Urgency", kind: "select", options: LEVELS, number: true, current: (c) => c.urgency },
      { name: "contactEmail", label: "Contact e-mail", kind: "text", type: "email", current: (c) => c.contactEmail },
      { name: "contactPhone", label: "Contact phone", kind: "text", type: "tel", current: (c) => c.contactPhone },
    ],
  },
  BEGIN_REVIEW: { mutation: "beginReview", input: "BeginReviewInput", label: "Begin review", primary: true },
  REQUEST_INFO: {
    mutation: "requestInfo", input: "RequestInfoInput", label: "Request information…",
    fields: [{ name: "question", label: "Question to the requester (public)", kind: "textarea", required: true }],
  },
  RESUME: { mutation: "resumeCase", input: "ResumeCaseInput", label: "Resume" },
  REQUEST_INSPECTION: {
    mutation: "requestInspection", input: "RequestInspectionInput", label: "Request inspection…",
    fields: [{ name: "inspectorId", label: "Inspector (user id)", kind: "person", required: true, suggest: "FIELD_AGENT" }],
  },
  COMPLETE_INSPECTION: {
    mutation: "completeInspection", input: "CompleteInspectionInput", label: "Complete inspection…",
    fields: [{ name: "findings", label: "Findings (internal)", kind: "textarea", required: true }],
  },
  START_WORK: { mutation: "startWork", input: "StartWorkInput", label: "Start work", primary: true },
  ASSIGN_WORK: {
    mutation: "assignWork", input: "AssignWorkInput", label: "Assign work…",
    fields: [{ name: "tasks", label: "Tasks", kind: "tasks", required: true }],
  },
  COMPLETE_WORK: { mutation: "completeWork", input: "CompleteWorkInput", label: "Complete work" },
  PROPOSE_SOLUTION: {
    mutation: "proposeSolution", input: "ProposeSolutionInput", label: "Propose solution…", primary: true,
    fields: [
      { name: "resolutionCode", label: "Resolution code", kind: "select", required: true, default: "SOLVED",
        options: RESOLUTION_CODES.map((code) => ({ value: code, label: resolutionLabel(code) })) },
      { name: "resolutionNotes", label: "Resolution notes (shown to the requester)", kind: "textarea", required: true },
    ],
  },
  ACCEPT_SOLUTION: { mutation: "acceptSolution", input: "AcceptSolutionInput", label: "Accept solution" },
  REJECT_SOLUTION: {
    mutation: "rejectSolution", input: "RejectSolutionInput", label: "Reject solution…",
    fields: [{ name: "reason", label: "Reason", kind: "textarea", required: true }],
  },
  CLOSE: {
    mutation: "closeCase", input: "CloseCaseInput", label: "Close…",
    // Staff must give notes (by rule, not by type): everyone using this dashboard is staff.
    fields: [{ name: "resolutionNotes", label: "Resolution notes", kind: "textarea", required: true }],
  },
  CANCEL: {
    mutation: "cancelCase", input: "CancelCaseInput", label: "Cancel case…", danger: true,
    // A manager must give a reason; the requester may.
    fields: [{ name: "reason", label: "Reason", kind: "textarea", required: true }],
  },
  DELETE: {
    mutation: "deleteCase", input: "DeleteCaseInput", label: "Delete…", danger: true,
    // No inputs, but destructive: a confirmation instead of running at once.
    confirm: "Delete this case? It disappears from every listing; only an administrator can restore it.",
  },
  SUBMIT_SURVEY: {
    mutation: "submitSurvey", input: "SubmitSurveyInput", label: "Rate…",
    fields: [
      { name: "rating", label: "Rating", kind: "select", required: true, number: true,
        options: [1, 2, 3, 4, 5].map((n) => ({ value: String(n), label: String(n) })) },
      { name: "comment", label: "Comment", kind: "textarea" },
    ],
  },
  RESTORE: { mutation: "restoreCase", input: "RestoreCaseInput", label: "Restore", noVersion: true },
};

/** The inputs the action's form shows to this viewer on this case. */
export function fieldsOf(action, detail) {
  const spec = ACTIONS[action];
  const fields = spec?.fields ?? [];
  if (!spec?.editable) return fields;
  const editable = new Set(detail.editableFields ?? []);
  return fields.filter((field) => editable.has(field.name));
}

/** The action buttons for the viewer: availableActions this dashboard runs, and that it can fill in. */
export function offeredActions(detail) {
  return detail.availableActions.filter((action) => ACTIONS[action] && (!ACTIONS[action].editable || fieldsOf(action, detail).length));
}

/** Whether clicking the action's button runs it at once (no inputs, no confirmation). */
export function runsAtOnce(action) {
  const spec = ACTIONS[action];
  return Boolean(spec) && !spec.fields?.length && !spec.confirm;
}

export const TASK_MUTATIONS = {
  start: { mutation: "startTask", input: "StartTaskInput", label: "Start" },
  complete: { mutation: "completeTask", input: "CompleteTaskInput", label: "Complete", field: { name: "note", label: "Note (optional)", required: false } },
  cancel: { mutation: "cancelTask", input: "CancelTaskInput", label: "Cancel", field: { name: "reason", label: "Reason", required: true } },
};

// Referrals to and from partner agencies (referring is offered when availableActions holds REFER).
// Each payload carries the case, so the view refreshes from the answer like an action's.
export const REFERRAL_MUTATIONS = {
  refer: { mutation: "referCase", input: "ReferCaseInput", label: "Refer" },
  accept: { mutation: "acceptReferral", input: "DecideReferralInput", label: "Accept referral" },
  reject: { mutation: "rejectReferral", input: "DecideReferralInput", label: "Reject referral" },
};
