// The sign-in screen: ask for a sign-in link by e-mail (the way in for members of the public),
// or, under "For development", paste a token or pick one of the demo constituents the server
// lists at /dev/demo-users (open by default only when the server runs in development).
// `onToken(token)` is called with a pasted or demo token; it answers null on success or a
// message to show. `onAskLink(email)` asks for the link; it answers null or a message.

import { h, replace } from "../lib/dom.js";
import { identityProviderLink, signInOptions } from "../lib/graphql.js";
import { formError } from "./forms.js";
import { t } from "./i18n.js";

// The sign-in screen's and its sessions' texts, by name, from the catalogue (signin.*), read when
// used so that a change of language shows at once.
export const SIGN_IN_TEXT = new Proxy({}, { get: (_, name) => t(`signin.${String(name)}`) });

/** A catalogue text's {placeholders} filled in (SIGN_IN_TEXT gives them unfilled). */
export function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
}

export function renderSignIn(container, { onToken, onAskLink, message = null }) {
  const linkForm = renderLinkForm(onAskLink);
  const error = formError();
  if (message) replace(error, message);
  const token = h("textarea", {
    id: "login-token", name: "token", testid: "login-token", rows: 4, spellcheck: false,
    autocomplete: "off", required: true,
  });
  const submit = h("button", { type: "submit", testid: "login-submit" }, t("signin.tokenSubmit"));
  const devUsers = h("ul", { class: "dev-users", testid: "dev-users" });
  const devSection = h(
    "section",
    { hidden: true, "aria-labelledby": "dev-users-heading" },
    h("h2", { id: "dev-users-heading" }, t("signin.demoHeading")),
    h("p", { class: "muted" }, t("signin.demoIntro")),
    devUsers,
  );

  async function use(value, buttons) {
    for (const button of buttons) button.disabled = true;
    replace(error);
    try {
      const refusal = await onToken(value.trim());
      if (refusal) replace(error, refusal);
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  }

  const tokenForm = h(
    "form",
    {
      onSubmit: (event) => {
        event.preventDefault();
        use(token.value, [submit]);
      },
    },
    h("div", { class: "field" }, h("label", { for: "login-token" }, t("signin.tokenLabel")), token),
    error,
    h("div", { class: "form-actions" }, submit),
  );
  const development = h(
    "details",
    { class: "panel", testid: "dev-signin" },
    h("summary", {}, SIGN_IN_TEXT.development),
    tokenForm,
    devSection,
  );
  if (message) development.open = true; // the message is about a token tried there
  const providerSlot = h("div", { class: "identity-provider" });
  replace(container, h("div", { class: "sign-in" }, linkForm, providerSlot, development));
  loadDemoUsers(development, devSection, devUsers, use);
  offerIdentityProvider(providerSlot);
}

/** "Sign in with <provider>" when the server has one configured (it runs the whole flow). */
async function offerIdentityProvider(slot) {
  const { oidc } = await signInOptions();
  if (!oidc) return;
  replace(
    slot,
    h(
      "section",
      { class: "panel", "aria-labelledby": "oidc-heading" },
      h("p", { id: "oidc-heading" }, t("signin.oidcIntro", { provider: oidc.name })),
      h(
        "a",
        // Back to this page after sign-in, with the case a mailed link opened (`#case-…`), if any.
        {
          class: "button primary",
          testid: "signin-oidc",
          href: identityProviderLink(oidc, `${window.location.pathname}${window.location.hash}`),
        },
        t("signin.oidcSubmit", { provider: oidc.name }),
      ),
    ),
  );
}

function renderLinkForm(onAskLink) {
  const email = h("input", {
    id: "signin-email", name: "email", type: "email", testid: "signin-email", autocomplete: "email", required: true,
  });
  const ask = h("button", { type: "submit", class: "primary", testid: "signin-email-submit" }, SIGN_IN_TEXT.emailSubmit);
  const outcome = h("p", { testid: "signin-email-outcome", role: "status" });
  return h(
    "form",
    {
      class: "panel",
      "aria-labelledby": "sign-in-heading",
      onSubmit: async (event) => {
        event.preventDefault();
        ask.disabled = true;
        replace(outcome);
        try {
          replace(outcome, (await onAskLink(email.value.trim())) ?? SIGN_IN_TEXT.linkSent);
        } finally {
          ask.disabled = false;
        }
      },
    },
    h("h1", { id: "sign-in-heading" }, SIGN_IN_TEXT.heading),
    h("p", {}, SIGN_IN_TEXT.intro),
    h("div", { class: "field" }, h("label", { for: "signin-email" }, SIGN_IN_TEXT.emailLabel), email),
    outcome,
    h("div", { class: "form-actions" }, ask),
  );
}

async function loadDemoUsers(development, section, list, use) {
  let users;
  try {
    const response = await fetch("/dev/demo-users", { headers: { Accept: "application/json" } });
    if (!response.ok) return; // not in development: no demo people, the disclosure stays closed
    users = await response.json();
  } catch {
    return;
  }
  development.open = true;
  const constituents = users.filter((user) => user.roles.includes("CONSTITUENT"));
  if (!constituents.length) return;
  replace(
    list,
    constituents.map((user) => {
      const button = h(
        "button",
        { type: "button", testid: "dev-user", "data-user-id": user.id },
        user.name,
        h("span", { class: "roles" }, user.id),
      );
      button.addEventListener("click", () => use(user.token, [button]));
      return h("li", {}, button);
    }),
  );
  section.hidden = false;
}
