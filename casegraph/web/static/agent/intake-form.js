// "New case": a member of staff takes a phone call, a walk-in or a chat. They find the caller
// among known constituents (`constituents(search)`) or register them (`registerConstituent`, which
// answers with the known person when the address or number is known already), choose the channel
// and what the request is about (a service definition with its template and required fields, as
// the portal's form uses them, or a bare case type), and file it for the caller with `createCase`.
// Refusals are shown next to the field the server names.

import { h, replace } from "../lib/dom.js";
import { GraphQLRequestError } from "../lib/graphql.js";
import { personName } from "./format.js";
import { CONSTITUENT_SEARCH, INTAKE_CATALOGUE, INTAKE_CREATE_CASE, REGISTER_CONSTITUENT } from "./queries.js";

// The channels a desk takes requests on (the contract's Channel, without PORTAL and PARTNER:
// those are how cases arrive by themselves).
export const DESK_CHANNELS = [["PHONE", "Phone"], ["WALK_IN", "Walk-in"], ["CHAT", "Chat"], ["EMAIL", "E-mail"], ["SOCIAL", "Social media"]];
const LEVELS = [["", "Default of the case type"], ["1", "1 — high"], ["2", "2 — medium"], ["3", "3 — low"]];
const SEARCH_DELAY = 250; // ms after the last key before the directory is asked

/**
 * One idempotency key per input: sending the same input again (a lost answer, a second Enter)
 * gets the first answer back and registers or files nothing twice; changed input is a new request.
 */
class KeyPerInput {
  forInput(input) {
    const text = JSON.stringify(input);
    if (text !== this.input) {
      this.input = text;
      this.value = window.crypto.randomUUID();
    }
    return this.value;
  }
}

export class IntakeForm {
  constructor({ api, onFiled, onCancel, onError, announce }) {
    this.api = api;
    this.onFiled = onFiled;
    this.onCancel = onCancel;
    this.onError = onError;
    this.announce = announce;
    this.caller = null;
    this.catalogue = null;
    this.busy = false;
    this.element = h("section", { class: "panel intake-panel", testid: "intake", "aria-labelledby": "intake-heading" });
  }

  /** Draw an empty form (again) and load the services and case types it offers. */
  async open() {
    this.caller = null;
    this.registerKey = new KeyPerInput();
    this.fileKey = new KeyPerInput();
    this.build();
    this.controls.search.focus();
    try {
      const data = await this.api.request(INTAKE_CATALOGUE, {});
      this.catalogue = data;
      this.fillCatalogue();
    } catch (error) {
      this.onError(error);
    }
  }

  build() {
    const errors = {};
    const control = (name, element) => {
      errors[name] = h("p", { class: "form-error", id: `intake-${name}-error`, testid: `intake-${name}-error`, role: "alert" });
      element.id = `intake-${name}`;
      element.setAttribute("aria-describedby", `intake-${name}-error`);
      element.dataset.testid = `intake-${name}`;
      return element;
    };
    const labelled = (name, label, element, hint = null) => h("div", { class: "field" },
      h("label", { for: `intake-${name}` }, label, hint ? h("span", { class: "hint" }, ` ${hint}`) : null),
      control(name, element), errors[name]);
    this.errors = errors;
    this.controls = {
      search: h("input", { type: "search", autocomplete: "off" }),
      name: h("input", { type: "text", autocomplete: "off", maxLength: 200 }),
      email: h("input", { type: "email", autocomplete: "off" }),
      phone: h("input", { type: "tel", autocomplete: "off" }),
      channel: h("select", {}, DESK_CHANNELS.map(([value, label]) => h("option", { value }, label))),
      about: h("select", {}, h("option", { value: "" }, "Loading…")),
      title: h("input", { type: "text", autocomplete: "off", maxLength: 200 }),
      description: h("textarea", { rows: 5 }),
      impact: h("select", {}, LEVELS.map(([value, label]) => h("option", { value }, label))),
      urgency: h("select", {}, LEVELS.map(([value, label]) => h("option", { value }, label))),
      contactEmail: h("input", { type: "email", autocomplete: "off" }),
      contactPhone: h("input", { type: "tel", autocomplete: "off" }),
    };
    this.matches = h("ul", { class: "plain caller-matches", testid: "intake-matches", "aria-label": "Known callers" });
    this.searchStatus = h("p", { class: "muted", role: "status", testid: "intake-search-status" });
    this.chosen = h("div", { class: "caller-chosen", testid: "intake-caller", "aria-live": "polite" });
    this.required = h("p", { class: "hint", testid: "intake-required" });
    this.formError = h("p", { class: "form-error", testid: "intake-error", role: "alert" });
    let timer = null;
    this.controls.search.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => this.search(), SEARCH_DELAY);
    });
    this.controls.about.addEventListener("change", () => this.aboutChanged());
    const registerButton = h("button", { type: "button", testid: "intake-register", onClick: () => this.register() }, "Register caller");
    const form = h("form", { class: "intake-form", testid: "intake-form", noValidate: true, onSubmit: (event) => { event.preventDefault(); this.file(); } },
      h("fieldset", { class: "caller" },
        h("legend", {}, "Caller"),
        labelled("search", "Find a known caller", this.controls.search, "(name, e-mail or phone; at least 2 characters)"),
        this.searchStatus,
        this.matches,
        this.chosen,
        h("details", { class: "register", testid: "intake-register-details" },
          h("summary", {}, "New caller: register them"),
          labelled("name", "Name", this.controls.name),
          labelled("email", "E-mail", this.controls.email),
          labelled("phone", "Phone", this.controls.phone, "(an e-mail address or a phone number is needed)"),
          registerButton)),
      h("fieldset", { class: "request" },
        h("legend", {}, "Request"),
        labelled("channel", "Channel", this.controls.channel),
        labelled("about", "Service or case type", this.controls.about),
        this.required,
        labelled("title", "Title", this.controls.title),
        labelled("description", "Description", this.controls.description),
        h("div", { class: "case-columns" },
          labelled("impact", "Impact", this.controls.impact),
          labelled("urgency", "Urgency", this.controls.urgency)),
        labelled("contactEmail", "Contact e-mail for this case", this.controls.contactEmail),
        labelled("contactPhone", "Contact phone for this case", this.controls.contactPhone)),
      this.formError,
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "primary", testid: "intake-submit" }, "File case"),
        h("button", { type: "button", testid: "intake-cancel", onClick: () => this.onCancel() }, "Cancel")));
    replace(this.element, h("h2", { id: "intake-heading" }, "New case"), form);
    this.showCaller();
  }

  fillCatalogue() {
    const { serviceDefinitions = [], caseTypes = [] } = this.catalogue ?? {};
    replace(this.controls.about,
      h("option", { value: "" }, "Choose…"),
      serviceDefinitions.length ? h("optgroup", { label: "Services" },
        serviceDefinitions.map((s) => h("option", { value: `service:${s.code}` }, s.name))) : null,
      h("optgroup", { label: "Case types" }, caseTypes.map((t) => h("option", { value: `type:${t.code}` }, t.name))));
  }

  /** The chosen service's template pre-fills what is still empty; its required fields are named. */
  aboutChanged() {
    const service = this.service();
    const template = service?.template;
    if (template) {
      if (!this.controls.title.value.trim()) this.controls.title.value = template.title ?? "";
      if (!this.controls.description.value.trim()) this.controls.description.value = template.description ?? "";
      if (template.impact) this.controls.impact.value = String(template.impact);
      if (template.urgency) this.controls.urgency.value = String(template.urgency);
    }
    const names = { DESCRIPTION: "a description", CONTACT_EMAIL: "a contact e-mail", CONTACT_PHONE: "a contact phone", LOCATION: "a location" };
    const required = service?.requiredFields ?? [];
    this.required.textContent = required.length ? `This service needs ${required.map((f) => names[f] ?? f).join(", ")}.` : "";
    for (const [field, name] of [["DESCRIPTION", "description"], ["CONTACT_EMAIL", "contactEmail"], ["CONTACT_PHONE", "contactPhone"]]) {
      this.controls[name].required = required.includes(field);
    }
  }

  service() {
    const value = this.controls.about.value;
    if (!value.startsWith("service:")) return null;
    return (this.catalogue?.serviceDefinitions ?? []).find((s) => s.code === value.slice("service:".length)) ?? null;
  }

  async search() {
    const text = this.controls.search.value.trim();
    if (text.length < 2) {
      replace(this.matches);
      this.searchStatus.textContent = "";
      return;
    }
    try {
      const data = await this.api.request(CONSTITUENT_SEARCH, { search: text });
      if (text !== this.controls.search.value.trim()) return; // a later search is on its way
      const found = data.constituents;
      this.searchStatus.textContent = found.length ? `${found.length} known caller${found.length === 1 ? "" : "s"} found.` : "No known caller matches. Register them below.";
      replace(this.matches, found.map((person) => h("li", { testid: "intake-match" },
        h("button", { type: "button", class: "link", onClick: () => this.choose(person, false) },
          `${personName(person)} — ${[person.email, person.phone].filter(Boolean).join(", ") || "no contact details"}`))));
    } catch (error) {
      this.onError(error);
    }
  }

  choose(person, registered) {
    this.caller = person;
    this.controls.contactEmail.value = person.email ?? "";
    this.controls.contactPhone.value = person.phone ?? "";
    this.showCaller(registered);
    this.announce?.(`Caller: ${personName(person)}.`);
  }

  showCaller(registered = null) {
    if (!this.caller) {
      replace(this.chosen, h("p", { class: "muted" }, "No caller chosen yet."));
      return;
    }
    const note = registered === "existing" ? `Already known: ${personName(this.caller)}.` : registered === "new" ? "Registered as a new caller." : null;
    replace(this.chosen,
      note ? h("p", { class: "notice", testid: "intake-caller-note" }, note) : null,
      h("p", {}, h("strong", { testid: "intake-caller-name" }, personName(this.caller)), " ",
        [this.caller.email, this.caller.phone].filter(Boolean).join(", "), " ",
        h("button", { type: "button", class: "link", testid: "intake-caller-change", onClick: () => { this.caller = null; this.showCaller(); this.controls.search.focus(); } }, "Change")));
  }

  clearErrors() {
    for (const element of Object.values(this.errors)) element.textContent = "";
    for (const control of Object.values(this.controls)) control.removeAttribute("aria-invalid");
    this.formError.textContent = "";
  }

  /** Refusals by field (server names: input fields); others go above the buttons. */
  showErrors(errors, fields) {
    let first = null;
    for (const error of errors) {
      const name = fields[error.field] ?? null;
      if (name && this.errors[name]) {
        this.errors[name].textContent = error.message;
        this.controls[name].setAttribute("aria-invalid", "true");
        first ??= this.controls[name];
      } else {
        this.formError.textContent = error.message;
      }
    }
    (first ?? this.formError).focus?.();
  }

  async register() {
    this.clearErrors();
    const input = { name: this.controls.name.value };
    for (const name of ["email", "phone"]) if (this.controls[name].value.trim()) input[name] = this.controls[name].value;
    if (this.busy) return;
    this.busy = true;
    try {
      const data = await this.api.request(REGISTER_CONSTITUENT, { input: { ...input, idempotencyKey: this.registerKey.forInput(input) } });
      const payload = data.registerConstituent;
      if (payload.errors.length) {
        this.showErrors(payload.errors, { name: "name", email: "email", phone: "phone" });
        return;
      }
      this.choose(payload.user, payload.existing ? "existing" : "new");
      this.element.querySelector("details.register").open = false;
      this.controls.channel.focus();
    } catch (error) {
      this.onError(error);
    } finally {
      this.busy = false;
    }
  }

  async file() {
    this.clearErrors();
    if (!this.caller) {
      this.errors.search.textContent = "Find the caller or register them first.";
      this.controls.search.setAttribute("aria-invalid", "true");
      this.controls.search.focus();
      return;
    }
    const about = this.controls.about.value;
    if (!about) {
      this.showErrors([{ field: "caseTypeCode", message: "Choose what the request is about." }], { caseTypeCode: "about" });
      return;
    }
    const input = { requesterId: this.caller.id, channel: this.controls.channel.value, title: this.controls.title.value };
    if (about.startsWith("service:")) input.serviceDefinitionCode = about.slice("service:".length);
    else input.caseTypeCode = about.slice("type:".length);
    for (const name of ["description", "contactEmail", "contactPhone"]) if (this.controls[name].value.trim()) input[name] = this.controls[name].value;
    for (const name of ["impact", "urgency"]) if (this.controls[name].value) input[name] = Number(this.controls[name].value);
    if (this.busy) return;
    this.busy = true;
    try {
      const data = await this.api.request(INTAKE_CREATE_CASE, { input: { ...input, idempotencyKey: this.fileKey.forInput(input) } });
      const payload = data.createCase;
      if (payload.errors.length) {
        this.showErrors(payload.errors, {
          title: "title", description: "description", impact: "impact", urgency: "urgency", channel: "channel",
          contactEmail: "contactEmail", contactPhone: "contactPhone", requesterId: "search",
          caseTypeCode: "about", serviceDefinitionCode: "about", templateCode: "about",
        });
        return;
      }
      this.announce?.(`Filed ${payload.case.number} for ${personName(this.caller)}.`);
      this.onFiled(payload.case.id);
    } catch (error) {
      if (error instanceof GraphQLRequestError && error.code !== "UNAUTHENTICATED") this.formError.textContent = error.message;
      else this.onError(error);
    } finally {
      this.busy = false;
    }
  }
}
