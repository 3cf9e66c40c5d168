// Running a form's request: the button is disabled while it runs, refusals (the payload's
// `errors`) are shown next to the form and its fields, anything else goes to the error banner.

import { refusalWords } from "./refusals.js";
import { h, replace } from "../lib/dom.js";
import { GraphQLRequestError } from "../lib/graphql.js";
import { t } from "./i18n.js";

function randomKey() {
  if (window.crypto?.randomUUID) return window.crypto.randomUUID();
  // randomUUID needs a secure context; getRandomValues does not.
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The idempotency key of a form. It is kept while no answer came back (a retry after a network
 * failure then acts once), and renewed once the server answered: it keeps the first answer to a
 * key for a day and refuses the same key with a corrected input.
 */
export class IdempotencyKey {
  constructor() {
    this.value = randomKey();
  }

  renew() {
    this.value = randomKey();
  }
}

/** The paragraph a form shows its refusal in (role=alert so it is read out when it appears). */
export function formError() {
  return h("p", { class: "form-error", testid: "form-error", role: "alert" });
}

/** A labelled field; `control` is the input, whose id the label points at. */
export function field(labelText, control, { hint = null, required = false } = {}) {
  const error = h("p", { class: "form-error field-error", id: `${control.id}-error`, "data-field": control.name });
  control.setAttribute("aria-describedby", error.id);
  if (required) control.required = true;
  return h(
    "div",
    { class: "field" },
    h("label", { for: control.id }, labelText, required ? null : h("span", { class: "hint" }, " ", t("form.optional"))),
    hint ? h("p", { class: "hint" }, hint) : null,
    control,
    error,
  );
}

/**
 * Run `perform(key)` (which returns a mutation payload) for a form: disables `buttons` meanwhile,
 * clears and then shows errors in `errorBox` and per-field boxes under `form`. Returns the
 * payload when it has no errors, otherwise null. `say(error)`, if given, words a refusal in the
 * visitor's language (a node or text), or returns null for the words of its code (refusals.js).
 */
export async function submitting({ form, errorBox, buttons, banner, key, perform, say = null }) {
  for (const button of buttons) button.disabled = true;
  form?.setAttribute("aria-busy", "true");
  replace(errorBox);
  for (const box of form?.querySelectorAll(".field-error") ?? []) replace(box);
  try {
    const payload = await perform(key.value);
    key.renew();
    if (payload.errors?.length) {
      showPayloadErrors(form, errorBox, payload.errors, say);
      return null;
    }
    return payload;
  } catch (error) {
    if (error instanceof GraphQLRequestError) banner.show(error.message, error.code);
    else banner.show(t("error.unexpected", { reason: error.message }));
    return null;
  } finally {
    for (const button of buttons) button.disabled = false;
    form?.removeAttribute("aria-busy");
  }
}

function showPayloadErrors(form, errorBox, errors, say) {
  const general = [];
  for (const error of errors) {
    const words = say?.(error) ?? refusalWords(error);
    const box = error.field ? form?.querySelector(`.field-error[data-field="${CSS.escape(error.field)}"]`) : null;
    if (box) replace(box, words);
    else general.push(words);
  }
  // The form-level box always says something, so a refusal is never silent.
  replace(errorBox, general.length ? general.flatMap((words, i) => (i ? [" ", words] : [words])) : t("form.checkFields"));
}
