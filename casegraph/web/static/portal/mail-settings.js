// "Your e-mails": where the mails about one's requests go, and the optional ones (satisfaction
// surveys) on or off. An unsubscribe link in a mail turns them off; this is where they come back
// on (and off again without a mail at hand). The language of the mails follows the header's menu.

import { refusalsWords } from "./refusals.js";
import { h, replace } from "../lib/dom.js";
import { announce } from "./chrome.js";
import { SET_OPTIONAL_MAIL } from "./documents.js";
import { t } from "./i18n.js";

export class MailSettings {
  /** `preferences`: the `mailPreferences` read at sign-in; `onFailed(error)`: shows a failure. */
  constructor({ api, email, preferences, onFailed }) {
    this.api = api;
    this.email = email;
    this.optional = preferences?.nonEssentialMail ?? true;
    this.onFailed = onFailed;
    this.heading = h("h2", { id: "mail-settings-heading" });
    this.body = h("div", { class: "mail-settings" });
    this.element = h("section", { class: "panel", "aria-labelledby": "mail-settings-heading", testid: "mail-settings" },
      this.heading, this.body);
    this.draw();
  }

  /** Drawn (again) in the current language. */
  draw() {
    this.heading.textContent = t("mail.heading");
    if (!this.email) {
      replace(this.body, h("p", { class: "muted", testid: "mail-address" }, t("mail.noAddress")));
      return;
    }
    this.box = h("input", {
      type: "checkbox", id: "optional-mail", testid: "optional-mail", checked: this.optional,
      onChange: () => this.save(),
    });
    replace(
      this.body,
      h("p", { testid: "mail-address" }, t("mail.goesTo", { email: this.email })),
      h("p", { class: "check" }, this.box, " ", h("label", { for: "optional-mail" }, t("mail.optional"))),
    );
  }

  async save() {
    const wanted = this.box.checked;
    this.box.disabled = true;
    try {
      const data = await this.api.request(SET_OPTIONAL_MAIL, { input: { nonEssentialMail: wanted } });
      const payload = data.setMailPreferences;
      if (payload.errors.length) throw new Error(refusalsWords(payload.errors));
      this.optional = payload.preferences.nonEssentialMail;
      announce(t(this.optional ? "mail.optionalOn" : "mail.optionalOff"));
    } catch (error) {
      this.onFailed(error);
    }
    this.draw();
  }
}
