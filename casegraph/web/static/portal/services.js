// "Ask for a service": the public services on offer, and the form that files a case under one.
// The form asks for what the service requires (ServiceDefinition.requiredFields) and offers the
// contact fields otherwise; the template, if any, pre-fills title and description. While the
// constituent types, published knowledge articles matching their words are offered
// (suggestions.js); what they read, and whether they then file or leave, is reported for the
// deflection figure.

import { h, replace } from "../lib/dom.js";
import { ATTACHABLE, dropZone } from "../lib/files.js";
import { CREATE_CASE } from "./documents.js";
import { IdempotencyKey, field, formError, submitting } from "./forms.js";
import { t } from "./i18n.js";
import { ArticleSuggestions } from "./suggestions.js";
import { checkFiles, sendFiles } from "./uploads.js";

export function renderServices(list, services, { selectedCode, onChoose }) {
  if (!services.length) {
    replace(list, h("li", { class: "empty" }, t("services.none")));
    return;
  }
  replace(
    list,
    services.map((service) =>
      h(
        "li",
        { testid: "service", "data-code": service.code, class: ["service", service.code === selectedCode && "selected"] },
        h(
          "button",
          {
            type: "button",
            class: "service-button",
            "aria-current": service.code === selectedCode ? "true" : null,
            onClick: () => onChoose(service),
          },
          h("span", { class: "service-name" }, service.name),
          service.description ? h("span", { class: "service-description" }, service.description) : null,
        ),
      ),
    ),
  );
}

/**
 * The filing form for one service; `onFiled(case)` gets the new case. Returns `leave()`, which the
 * portal calls when the visitor goes elsewhere without filing (it reports the draft as left).
 */
export function renderFileForm(container, service, { api, banner, onFiled, onCancel, draft = null }) {
  const required = new Set(service.requiredFields);
  const controls = {
    title: h("input", {
      id: "file-title", name: "title", type: "text", testid: "input-title", maxLength: 200, autocomplete: "off",
      value: service.template?.title ?? "",
    }),
    description: h("textarea", {
      id: "file-description", name: "description", testid: "input-description", rows: 6,
      value: service.template?.description ?? "",
    }),
    contactEmail: h("input", {
      id: "file-contact-email", name: "contactEmail", type: "email", testid: "input-contactEmail", autocomplete: "email",
    }),
    contactPhone: h("input", {
      id: "file-contact-phone", name: "contactPhone", type: "tel", testid: "input-contactPhone", autocomplete: "tel",
    }),
  };
  const wantsLocation = required.has("LOCATION");
  if (wantsLocation) {
    controls.latitude = h("input", {
      id: "file-latitude", name: "latitude", type: "number", step: "any", min: -90, max: 90, testid: "input-latitude",
    });
    controls.longitude = h("input", {
      id: "file-longitude", name: "longitude", type: "number", step: "any", min: -180, max: 180, testid: "input-longitude",
    });
  }
  // Photos and documents go with the request: checked before it is filed, sent right after.
  const picker = h("input", { type: "file", id: "file-attachments", name: "files", testid: "file-attachments", accept: ATTACHABLE, multiple: true });
  const chosen = h("p", { class: "muted", testid: "file-attachments-chosen", "aria-live": "polite" });
  const uploads = h("ul", { class: "plain uploads", testid: "uploads", "aria-live": "polite" });
  picker.addEventListener("change", async () => {
    const files = [...(picker.files ?? [])];
    replace(chosen, files.length ? t("attachments.chosen", { names: files.map((file) => file.name).join(", ") }) : "");
    await checkFiles(files, uploads);
  });
  const error = formError();
  const submit = h("button", { type: "submit", class: "primary", testid: "file-submit" }, t("file.submit"));
  // `draft` is the suggestions of this same form drawn before (a language switch redraws it).
  const suggestions = draft ?? new ArticleSuggestions({ api, serviceCode: service.code });
  const cancel = h("button", {
    type: "button",
    onClick: () => {
      suggestions.left();
      onCancel();
    },
  }, t("common.cancel"));
  const typed = () => suggestions.typed(`${controls.title.value} ${controls.description.value}`);
  controls.title.addEventListener("input", typed);
  controls.description.addEventListener("input", typed);

  const form = h(
    "form",
    { class: "panel file-form", testid: "file-form", "data-code": service.code, "aria-labelledby": "file-heading", noValidate: false },
    h("h2", { id: "file-heading" }, service.name),
    service.description ? h("p", { class: "muted" }, service.description) : null,
    field(t("file.title"), controls.title, { required: true }),
    field(t("file.description"), controls.description, {
      required: required.has("DESCRIPTION"),
      hint: t("file.descriptionHint"),
    }),
    // Right under what is typed, so the visitor sees the articles while writing.
    suggestions.element(),
    wantsLocation
      ? h(
        "fieldset",
        { class: "location" },
        h("legend", {}, t("file.where")),
        h("p", { class: "hint" }, t("file.whereHint")),
        field(t("file.latitude"), controls.latitude, { required: true }),
        field(t("file.longitude"), controls.longitude, { required: true }),
      )
      : null,
    h(
      "fieldset",
      { class: "contact" },
      h("legend", {}, t("file.contact")),
      field(t("file.email"), controls.contactEmail, { required: required.has("CONTACT_EMAIL") }),
      field(t("file.phone"), controls.contactPhone, { required: required.has("CONTACT_PHONE") }),
    ),
    h(
      "fieldset",
      { class: "files" },
      h("legend", {}, t("file.files")),
      dropZone({ input: picker, title: t("attachments.label"), hint: t("attachments.drop"), testid: "file-attachments-drop" }),
      h("p", { class: "hint" }, t("attachments.hint")),
      chosen,
      uploads,
    ),
    error,
    h("div", { class: "form-actions" }, submit, cancel),
  );

  const key = new IdempotencyKey();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = {
      serviceDefinitionCode: service.code,
      channel: "PORTAL",
      title: controls.title.value,
    };
    for (const name of ["description", "contactEmail", "contactPhone"]) {
      if (controls[name].value.trim() !== "") input[name] = controls[name].value;
    }
    if (wantsLocation) {
      input.latitude = Number(controls.latitude.value);
      input.longitude = Number(controls.longitude.value);
    }
    const files = [...(picker.files ?? [])];
    if (!(await checkFiles(files, uploads))) {
      replace(error, t("file.filesRefused"));
      return;
    }
    const payload = await submitting({
      form, errorBox: error, buttons: [submit, cancel], banner, key,
      perform: async (idempotencyKey) => (await api.request(CREATE_CASE, { input: { ...input, idempotencyKey } })).createCase,
    });
    if (!payload) return;
    suggestions.filed(payload.case.id);
    if (!files.length) {
      onFiled(payload.case);
      return;
    }
    submit.disabled = true;
    cancel.disabled = true;
    form.setAttribute("aria-busy", "true");
    let sent = { latest: null, refused: 0 };
    try {
      sent = await sendFiles(api, payload.case.id, files, uploads);
    } catch (failure) {
      banner.show(failure.message, failure.code);
    }
    const filed = sent.latest ?? payload.case;
    if (!sent.refused) {
      onFiled(filed);
      return;
    }
    // Filed, but not every file went with it: say which before the request is shown.
    replace(container, h(
      "section",
      { class: "panel file-form", testid: "filed-with-refusals" },
      h("h2", {}, t("file.filedWithRefusals", { number: filed.number })),
      uploads,
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "primary", testid: "open-filed", onClick: () => onFiled(filed) }, t("file.openFiled"))),
    ));
  });
  replace(container, form);
  controls.title.focus();
  // A template's words are searched at once: its articles may answer before anything is typed.
  if (controls.title.value || controls.description.value) typed();
  return suggestions;
}
