// The GraphQL operations of the portal, in one place (field names as in schema.graphql).

// What a row of "My requests" shows; subscription events carry the same fields, so a row is
// brought up to date from the event alone.
const CASE_SUMMARY = `
  id number title status stage workflow version updatedAt submittedAt
  caseType { name }
`;

const CASE_DETAIL = `
  ${CASE_SUMMARY}
  description createdAt resolutionCode resolutionNotes reopenCount cancelReason contactEmail contactPhone
  availableActions attachmentActions
  survey { rating comment submittedAt }
  comments { id body createdAt author { id name } }
  attachments { id filename contentType size scanStatus createdAt url thumbnailUrl uploadedBy { id name } }
  history(first: 100) { edges { node { id action type toStatus occurredAt details actor { id name } } } }
`;

const PAYLOAD_ERRORS = "errors { code field reason message }";

// With the person's mail language: a language chosen on another device follows them (main.js).
export const ME = `query PortalMe { me { id name roles email } mailPreferences { locale localeChosen languages nonEssentialMail } }`;

/** The person's language for their mails, set when they pick one in the portal. */
export const SET_MAIL_LANGUAGE = `mutation PortalMailLanguage($input: SetMailPreferencesInput!) {
  setMailPreferences(input: $input) { preferences { locale } ${PAYLOAD_ERRORS} }
}`;

export const SET_OPTIONAL_MAIL = `mutation PortalOptionalMail($input: SetMailPreferencesInput!) {
  setMailPreferences(input: $input) { preferences { nonEssentialMail } ${PAYLOAD_ERRORS} }
}`;

export const SERVICES = `query PortalServices {
  serviceDefinitions {
    code name description requiredFields
    caseType { name workflow }
    template { title description }
  }
}`;

/** A page of "My requests" (newest change first), optionally only some statuses; `after` pages on. */
export const MY_CASES = `query PortalMyCases($first: Int, $after: String, $filter: CaseFilterInput) {
  cases(first: $first, after: $after, filter: $filter, orderBy: { field: UPDATED_AT, direction: DESC }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ${CASE_SUMMARY} } }
  }
}`;

/** Published articles matching what the constituent is typing (constituents never see drafts). */
export const SUGGESTED_ARTICLES = `query PortalSuggestedArticles($text: String!, $first: Int) {
  suggestedArticles(text: $text, first: $first) { id title body }
}`;

/** A step of a draft request: an article read, then filed or left (the deflection figure). */
export const RECORD_SELF_SERVICE = `mutation PortalSelfService($input: RecordSelfServiceInput!) {
  recordSelfService(input: $input) { recorded ${PAYLOAD_ERRORS} }
}`;

/** The requester's own edit: description and contact details, checked against the version they saw. */
export const EDIT_CASE = `mutation PortalEdit($input: UpdateCaseInput!) {
  updateCase(input: $input) { case { ${CASE_DETAIL} } ${PAYLOAD_ERRORS} }
}`;

/** The requester closes their own request (nothing required). */
export const CLOSE_CASE = `mutation PortalClose($input: CloseCaseInput!) {
  closeCase(input: $input) { case { ${CASE_DETAIL} } ${PAYLOAD_ERRORS} }
}`;

export const CASE = `query PortalCase($id: ID!) { case(id: $id) { ${CASE_DETAIL} } }`;

export const CREATE_CASE = `mutation PortalFile($input: CreateCaseInput!) {
  createCase(input: $input) { case { ${CASE_DETAIL} } ${PAYLOAD_ERRORS} }
}`;

/** An answer to an information request: a comment, which also resumes the case (UPDATE rule). */
export const ANSWER = `mutation PortalAnswer($input: UpdateCaseInput!) {
  updateCase(input: $input) { case { ${CASE_DETAIL} } ${PAYLOAD_ERRORS} }
}`;

/** A file on the request (a multipart request: lib/graphql.js upload). */
export const ADD_ATTACHMENT = `mutation PortalAttach($input: AddAttachmentInput!) {
  addAttachment(input: $input) { case { ${CASE_DETAIL} } ${PAYLOAD_ERRORS} }
}`;

/** Fresh download links (they live minutes) for a file the person is about to save. */
export const CASE_FILE_LINKS = `query PortalFileLinks($id: ID!) { case(id: $id) { id attachments { id url } } }`;

export const ACCEPT_SOLUTION = `mutation PortalAccept($input: AcceptSolutionInput!) {
  acceptSolution(input: $input) { case { ${CASE_DETAIL} } ${PAYLOAD_ERRORS} }
}`;

export const REJECT_SOLUTION = `mutation PortalReject($input: RejectSolutionInput!) {
  rejectSolution(input: $input) { case { ${CASE_DETAIL} } ${PAYLOAD_ERRORS} }
}`;

export const SUBMIT_SURVEY = `mutation PortalSurvey($input: SubmitSurveyInput!) {
  submitSurvey(input: $input) { case { ${CASE_DETAIL} } ${PAYLOAD_ERRORS} }
}`;

export const SUBMIT_CASE = `mutation PortalSubmitDraft($input: SubmitCaseInput!) {
  submitCase(input: $input) { case { ${CASE_DETAIL} } ${PAYLOAD_ERRORS} }
}`;

export const CANCEL_CASE = `mutation PortalWithdraw($input: CancelCaseInput!) {
  cancelCase(input: $input) { case { ${CASE_DETAIL} } ${PAYLOAD_ERRORS} }
}`;

/** Every event of every case the constituent may see (their own), resumable with `after`. */
export const CASE_EVENTS = `subscription PortalFeed($after: ID) {
  caseEvents(after: $after) { id sequence action toStatus case { ${CASE_SUMMARY} } }
}`;

/** Needs no token: mails a sign-in link (the same answer whether or not the address is known). */
export const REQUEST_SIGN_IN_LINK = `mutation PortalRequestSignInLink($input: RequestSignInLinkInput!) {
  requestSignInLink(input: $input) { accepted errors { code message field } }
}`;
