// The dashboard's GraphQL documents. Field names are checked against schema.graphql.

export const QUEUE_ROW = `
fragment QueueRow on Case {
  id number title status stage priority version updatedAt escalated deletedAt
  assignedTo { id name }
  assignmentGroup { code name }
  caseType { code name }
}`;

// The queue page: who I am (and my groups, for the filter) and the first page of the queue.
export const QUEUE_QUERY = `
query AgentQueue($filter: CaseFilterInput, $first: Int!, $after: String) {
  me { id name roles groups { code name } }
  cases(filter: $filter, orderBy: { field: UPDATED_AT, direction: DESC }, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ...QueueRow } }
  }
}
${QUEUE_ROW}`;

const HISTORY_EDGE = `edges { node { id sequence type action fromStage fromStatus toStage toStatus version occurredAt details actor { id name } } }`;

// Case.referrals (staff only): each referral to or from a partner agency, as this side sees it.
const REFERRAL_FIELDS = `id direction status partnerCode partnerName taskId note reason remoteCaseNumber remoteStage
    remoteStatus remoteResolutionCode remoteResolutionNotes lastError createdAt deliveredAt`;

export const CASE_DETAIL = `
fragment CaseDetail on Case {
  id number title description stage status workflow priority impact urgency channel version
  createdAt updatedAt submittedAt resolvedAt closedAt deletedAt
  resolutionCode resolutionNotes reopenCount cancelReason contactEmail contactPhone
  escalated inspectionFindings serviceDefinitionCode replyToken replyAddress
  caseType { code name }
  assignmentGroup { code name members { isManager user { id name roles } } }
  requester { id name email phone preferredLanguage }
  assignedTo { id name }
  inspector { id name }
  availableActions editableFields attachmentActions
  history(first: 100) { totalCount pageInfo { hasNextPage endCursor } ${HISTORY_EDGE} }
  comments { id body createdAt author { id name } }
  workNotes { id body createdAt author { id name } }
  attachments { id filename contentType size scanStatus internal createdAt url thumbnailUrl uploadedBy { id name } }
  tasks { id title state dueAt note createdAt finishedAt assignee { id name } }
  slaTimers { kind phase targetMinutes elapsedSeconds remainingSeconds paused stopped breached dueAt startedAt stoppedAt breachedAt }
  survey { rating comment submittedAt }
  referrals { ${REFERRAL_FIELDS} }
}`;

export const CASE_QUERY = `
query AgentCase($id: ID!) { case(id: $id) { ...CaseDetail } }
${CASE_DETAIL}`;

// Only for histories longer than one page (rare): the following pages.
export const HISTORY_PAGE_QUERY = `
query AgentCaseHistory($id: ID!, $after: String) {
  case(id: $id) { id history(first: 100, after: $after) { pageInfo { hasNextPage endCursor } ${HISTORY_EDGE} } }
}`;

const EVENT_FIELDS = `id sequence type action version occurredAt actor { id name }`;

export const QUEUE_EVENTS = `
subscription AgentQueueEvents($scope: QueueScope!, $after: ID) {
  queueEvents(scope: $scope, after: $after) { ${EVENT_FIELDS} case { ...QueueRow } }
}
${QUEUE_ROW}`;

// ADMIN has no groups but sees every case: follow every visible case instead.
export const ALL_CASE_EVENTS = `
subscription AgentAllCaseEvents($after: ID) {
  caseEvents(after: $after) { ${EVENT_FIELDS} case { ...QueueRow } }
}
${QUEUE_ROW}`;

export const CASE_EVENTS = `
subscription AgentCaseEvents($caseId: ID!, $after: ID) {
  caseEvents(caseId: $caseId, after: $after) { ${EVENT_FIELDS} }
}`;

/** Fresh download links (they live minutes) for a file about to be saved. */
export const CASE_FILE_LINKS = `query AgentFileLinks($id: ID!) { case(id: $id) { id attachments { id url } } }`;

/** A case mutation whose payload refreshes the case view at once. */
export function caseMutation(name, inputType) {
  return `
mutation AgentAction($input: ${inputType}!) {
  ${name}(input: $input) { case { ...CaseDetail } event { id version } errors { code message field } }
}
${CASE_DETAIL}`;
}

// The partner agencies a case can be referred to (staff): for the "Refer to partner" form.
export const REFERRAL_PARTNERS_QUERY = `
query AgentReferralPartners { referralPartners { code name } }`;

// Send a FAILED referral again. Its payload has no case (nothing is recorded on it): refetch.
export const RETRY_REFERRAL = `
mutation AgentRetryReferral($id: ID!) {
  retryReferral(id: $id) { referral { ${REFERRAL_FIELDS} } errors { code message field } }
}`;

export const ANALYTICS_QUERY = `
query AgentAnalytics($filter: AnalyticsFilterInput, $interval: BacklogInterval!) {
  analytics(filter: $filter) {
    openCases(by: [STATUS]) { status count }
    backlog(interval: $interval) { start end opened resolved reopened cancelled openAtEnd }
    firstResponseTime { count meanSeconds p50Seconds p90Seconds p95Seconds }
    resolutionTime { count meanSeconds p50Seconds p90Seconds p95Seconds }
    slaCompliance { kind priority met breached inProgress complianceRate caseType { code name } }
    satisfaction { count averageRating distribution { rating count } }
    reopenRate { resolvedCases reopenedCases rate }
    agentWorkload { openCases resolvedCases meanResolutionSeconds surveyCount averageRating agent { id name } }
    deflection { deflectedRequests filedAfterReading deflectionRate topArticles { deflectedRequests article { id title } } }
  }
}`;

// Intake by staff ("New case", intake-form.js): what a request can be about, the directory of
// known callers, registering a new one, and filing the case for them.
export const INTAKE_CATALOGUE = `
query IntakeCatalogue {
  serviceDefinitions { code name description requiredFields caseType { code } template { title description impact urgency } }
  caseTypes { code name }
}`;

export const CONSTITUENT_SEARCH = `
query ConstituentSearch($search: String!) { constituents(search: $search) { id name email phone } }`;

export const REGISTER_CONSTITUENT = `
mutation RegisterConstituent($input: RegisterConstituentInput!) {
  registerConstituent(input: $input) { existing user { id name email phone } errors { code field message } }
}`;

export const INTAKE_CREATE_CASE = `
mutation IntakeCreateCase($input: CreateCaseInput!) {
  createCase(input: $input) { case { id number } errors { code field message } }
}`;

// The caller's history (caller-history.js): their open cases, then their finished ones, newest
// first, a page at a time, with the satisfaction each survey gave.
const CALLER_CASE = `id number title status updatedAt survey { rating comment }`;
export const CALLER_CASES = `
query CallerCases($requesterId: ID!, $status: [CaseStatus!], $after: String) {
  cases(filter: { requesterId: $requesterId, status: $status }, orderBy: { field: UPDATED_AT, direction: DESC }, first: 10, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ${CALLER_CASE} } }
  }
}`;
