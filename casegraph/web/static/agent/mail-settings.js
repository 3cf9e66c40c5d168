// "E-mail me my notifications": staff opt in to getting their notifications (mentions, SLA
// warnings and breaches, dwell alerts, assignments) by mail, in the header. Mail needs an address on the
// account, and optional mail not stopped by an unsubscribe link: ticking the box turns that back
// on too, since a notification mail is optional mail (README, "E-mail to requesters").

import { h } from "../lib/dom.js";

const PREFERENCES = `query AgentMailPreferences { me { id email } mailPreferences { notificationMail nonEssentialMail } }`;
const SET_PREFERENCES = `mutation AgentSetMailPreferences($input: SetMailPreferencesInput!) {
  setMailPreferences(input: $input) { preferences { notificationMail nonEssentialMail } errors { code message field } }
}`;

export class MailSettings {
  constructor({ api, onError, announce }) {
    this.api = api;
    this.onError = onError;
    this.announce = announce;
    this.box = h("input", { type: "checkbox", testid: "notification-mail", onChange: () => this.save() });
    this.note = h("span", { class: "mail-note", testid: "notification-mail-note" });
    this.element = h("span", { class: "mail-settings", hidden: true },
      h("label", {}, this.box, " E-mail me my notifications"),
      this.note,
    );
  }

  async load() {
    try {
      const data = await this.api.request(PREFERENCES);
      this.show(data.mailPreferences, data.me?.email ?? null);
    } catch (error) {
      this.onError(error);
    }
  }

  show(preferences, email = this.email) {
    this.email = email;
    this.box.checked = Boolean(preferences.notificationMail && preferences.nonEssentialMail);
    this.box.disabled = !email;
    this.box.title = email ? `Mails go to ${email}.` : "";
    this.note.textContent = email ? "" : "(no e-mail address on your account)";
    this.element.hidden = false;
  }

  async save() {
    const wanted = this.box.checked;
    // Optional mail back on with the opt-in: otherwise the box would be ticked and nothing sent.
    const input = wanted ? { notificationMail: true, nonEssentialMail: true } : { notificationMail: false };
    this.box.disabled = true;
    try {
      const data = await this.api.request(SET_PREFERENCES, { input });
      const payload = data.setMailPreferences;
      if (payload.errors?.length) throw new Error(payload.errors.map((e) => e.message).join("; "));
      this.show(payload.preferences);
      this.announce(wanted ? `Your notifications will be mailed to ${this.email}.` : "Your notifications will no longer be mailed.");
    } catch (error) {
      this.box.checked = !wanted;
      this.box.disabled = false;
      this.onError(error);
    }
  }
}
