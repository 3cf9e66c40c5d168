// Entry point of the agent dashboard (/): signed out → sign-in screen; signed in → dashboard.
//
// Two kinds of sign-in: a session kept by the refresh cookie (signed in with the agency's identity
// provider; the access token lives in memory only and is renewed through the cookie, as on the
// portal), or a pasted or demo token (development), remembered in localStorage.

import { CookieSession, forgetFileLinks, storedToken, storeToken, tokenClaims } from "../lib/graphql.js";
import { Dashboard } from "./dashboard.js";
import { Shell } from "./shell.js";
import { renderSignIn } from "./signin.js";

const SCOPE = "agent";
const shell = new Shell(document.getElementById("app"));
let dashboard = null;

const cookieSession = new CookieSession({
  onToken: (token) => {
    if (dashboard?.fromCookie) dashboard.api.token = token;
  },
  onEnded: () => {
    if (dashboard?.fromCookie) signOut("Your session has ended. Please sign in again.");
  },
});

function signOut(message = "") {
  const fromCookie = dashboard?.fromCookie;
  dashboard?.stop();
  const answered = dashboard?.api.settled() ?? Promise.resolve();
  dashboard = null;
  storeToken(SCOPE, null);
  shell.setUser(null);
  shell.setLiveStatus("offline");
  shell.clearError();
  if (window.location.hash) window.history.replaceState(null, "", window.location.pathname);
  // The sign-in screen once the server has ended the session: a reload then finds none. Requests
  // still on their way (a queue refresh) are answered first, with the session still valid.
  const ended = fromCookie
    ? answered.then(() => cookieSession.signOut()).catch(() => null)
    : forgetFileLinks().catch(() => null);
  ended.then(() => renderSignIn(shell.main, { onToken: signIn, message }));
}

function signIn(token, { fromCookie = false } = {}) {
  const claims = tokenClaims(token);
  if (!claims) {
    renderSignIn(shell.main, { onToken: signIn, message: "That does not look like a token (a JWT has three parts separated by dots)." });
    return;
  }
  if (!fromCookie) storeToken(SCOPE, token);
  shell.clearError();
  dashboard = new Dashboard({
    shell, token, claims, onSignOut: signOut, renew: fromCookie ? () => cookieSession.refresh() : null,
  });
  dashboard.fromCookie = fromCookie;
  // Thumbnails and downloads are plain links: a pasted token gives this browser the download
  // cookie first (a session from the sign-in cookie has one).
  const ready = fromCookie ? Promise.resolve() : dashboard.api.allowFileLinks().catch(() => null);
  const started = dashboard;
  ready.then(() => { if (dashboard === started) started.start(); });
}

const token = storedToken(SCOPE);
if (token) signIn(token);
else {
  // Signed in with the identity provider before (this page, or before a reload)? The cookie says.
  cookieSession
    .refresh()
    .catch(() => null)
    .then((fresh) => (fresh ? signIn(fresh, { fromCookie: true }) : signOut()));
}
