// The sign-in screen: paste a token, or (in development) pick one of the demo constituents the
// server lists at /dev/demo-users. `onToken(token)` is called with the chosen token; it answers
// null on success or a message to show.

import { h, replace } from "../lib/dom.js";
import { formError } from "./forms.js";
import { t } from "./i18n.js";

export function renderSignIn(container, { onToken, message = null }) {
  const error = formError();
  if (message) replace(error, message);
  const token = h("textarea", {
    id: "login-token", name: "token", testid: "login-token", rows: 4, spellcheck: false,
    autocomplete: "off", required: true,
  });
  const submit = h("button", { type: "submit", class: "primary", testid: "login-submit" }, t("signin.submit"));
  const devUsers = h("ul", { class: "dev-users", testid: "dev-users" });
  const devSection = h(
    "section",
    { class: "panel", hidden: true, "aria-labelledby": "dev-users-heading" },
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

  const form = h(
    "form",
    {
      class: "panel",
      "aria-labelledby": "sign-in-heading",
      onSubmit: (event) => {
        event.preventDefault();
        use(token.value, [submit]);
      },
    },
    h("h1", { id: "sign-in-heading" }, t("signin.heading")),
    h("p", {}, t("signin.intro")),
    h("div", { class: "field" }, h("label", { for: "login-token" }, t("signin.tokenLabel")), token),
    error,
    h("div", { class: "form-actions" }, submit),
  );
  replace(container, h("div", { class: "sign-in" }, form, devSection));
  loadDemoUsers(devSection, devUsers, use);
}

async function loadDemoUsers(section, list, use) {
  let users;
  try {
    const response = await fetch("/dev/demo-users", { headers: { Accept: "application/json" } });
    if (!response.ok) return; // not in development: no demo people
    users = await response.json();
  } catch {
    return;
  }
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
