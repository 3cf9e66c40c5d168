// Sign-in: paste a token, or (development only) pick a demo staff user.

import { h } from "../lib/dom.js";
import { identityProviderLink, signInOptions } from "../lib/graphql.js";

const ROLE_ORDER = ["AGENT", "MANAGER", "FIELD_AGENT", "ADMIN"];
const STAFF_ROLES = new Set(ROLE_ORDER);

export function isStaff(roles) {
  return (roles ?? []).some((role) => STAFF_ROLES.has(role));
}

export function renderSignIn(main, { onToken, message = "" }) {
  const token = h("textarea", { id: "login-token", testid: "login-token", rows: 4, spellcheck: false, autocomplete: "off", required: true });
  const error = h("p", { class: "form-error", testid: "login-error", role: "alert" }, message);
  const submit = h("button", { type: "submit", class: "primary", testid: "login-submit" }, "Sign in");
  const form = h("form", {
    onSubmit: (event) => {
      event.preventDefault();
      const value = token.value.trim();
      if (!value) {
        error.textContent = "Paste a token first.";
        return;
      }
      onToken(value);
    },
  },
  h("div", { class: "field" },
    h("label", { for: "login-token" }, "Access token", h("span", { class: "hint" }, " — a bearer token (JWT) from your identity provider")),
    token),
  error,
  h("div", { class: "form-actions" }, submit));

  const devList = h("ul", { class: "dev-users", testid: "dev-users" });
  const devSection = h("section", { class: "panel", hidden: true, "aria-labelledby": "dev-users-heading" },
    h("h2", { id: "dev-users-heading" }, "Development: sign in as a demo user"),
    h("p", { class: "muted" }, "Only offered while the server uses its development secret."),
    devList);

  // Staff of an agency with an identity provider sign in there; the token form is for development.
  const provider = h("div", { class: "identity-provider" });
  main.replaceChildren(h("div", { class: "sign-in" },
    h("section", { class: "panel", "aria-labelledby": "sign-in-heading" },
      h("h1", { id: "sign-in-heading" }, "Sign in to the service desk"),
      provider,
      form),
    devSection));
  signInOptions().then(({ oidc }) => {
    if (!oidc) return;
    provider.replaceChildren(h("p", {},
      h("a", { class: "button primary", testid: "signin-oidc", href: identityProviderLink(oidc, "/") },
        `Sign in with ${oidc.name}`)),
      h("p", { class: "muted" }, "Or paste an access token:"));
  });

  loadDemoUsers().then((users) => {
    // Desk roles first: that is who usually signs in here.
    const rank = (user) => Math.min(...user.roles.map((role) => ROLE_ORDER.indexOf(role)).filter((i) => i >= 0));
    const staff = users.filter((user) => isStaff(user.roles)).sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
    if (!staff.length) return;
    devList.replaceChildren(...staff.map((user) => h("li", {},
      h("button", { type: "button", testid: "dev-user", "data-user-id": user.id, onClick: () => onToken(user.token) },
        h("strong", {}, user.name),
        h("span", { class: "roles" }, `${user.id} · ${user.roles.join(", ")}`)))));
    devSection.hidden = false;
  });
}

let demoUsers = null;

/** The demo users (development only; [] otherwise), fetched once. */
export function loadDemoUsers() {
  demoUsers ??= fetchDemoUsers();
  return demoUsers;
}

async function fetchDemoUsers() {
  try {
    const response = await fetch("/dev/demo-users", { headers: { Accept: "application/json" } });
    if (!response.ok) return [];
    const users = await response.json();
    return Array.isArray(users) ? users : [];
  } catch {
    return [];
  }
}
