// Entry point of the agent dashboard (/): signed out → sign-in screen; signed in → dashboard.

import { storedToken, storeToken, tokenClaims } from "../lib/graphql.js";
import { Dashboard } from "./dashboard.js";
import { Shell } from "./shell.js";
import { renderSignIn } from "./signin.js";

const SCOPE = "agent";
const shell = new Shell(document.getElementById("app"));
let dashboard = null;

function signOut(message = "") {
  dashboard?.stop();
  dashboard = null;
  storeToken(SCOPE, null);
  shell.setUser(null);
  shell.setLiveStatus("offline");
  shell.clearError();
  if (window.location.hash) window.history.replaceState(null, "", window.location.pathname);
  renderSignIn(shell.main, { onToken: signIn, message });
}

function signIn(token) {
  const claims = tokenClaims(token);
  if (!claims) {
    renderSignIn(shell.main, { onToken: signIn, message: "That does not look like a token (a JWT has three parts separated by dots)." });
    return;
  }
  storeToken(SCOPE, token);
  shell.clearError();
  dashboard = new Dashboard({ shell, token, claims, onSignOut: signOut });
  dashboard.start();
}

const token = storedToken(SCOPE);
if (token) signIn(token);
else signOut();
