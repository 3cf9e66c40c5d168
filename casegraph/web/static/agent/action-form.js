// The form an action opens: one input per field of its mutation's input type, named
// `input-<field>`, validated here for presence, submitted as that input object.

import { h } from "../lib/dom.js";
import { ACTIONS, fieldsOf } from "./actions.js";
import { personName } from "./format.js";

let formSeq = 0;

/**
 * Build the form of `action` for case `detail`. `people` are suggestions for person fields
 * ({id, name, roles}); `onSubmit(values)` gets the input's own fields (caseId and version are
 * added by the caller) and returns a promise.
 */
export function buildActionForm({ action, detail, people, onSubmit, onCancel }) {
  const spec = ACTIONS[action];
  const id = `action-form-${++formSeq}`;
  // Suggestions: the case's group members, and whoever else the page knows (demo users in development).
  const known = new Map((detail.assignmentGroup?.members ?? []).map((member) => [member.user.id, member.user]));
  for (const person of people) if (!known.has(person.id)) known.set(person.id, person);
  people = [...known.values()];
  const error = h("p", { class: "form-error", testid: "action-error", role: "alert" });
  const controls = new Map(); // field name -> () => value
  const fieldElements = fieldsOf(action, detail).map((field) => {
    const control = buildField({ field, detail, people, formId: id });
    controls.set(field.name, control.read);
    return control.element;
  });
  const submit = h("button", { type: "submit", class: spec.danger ? "danger" : "primary", testid: "action-submit" },
    spec.confirm ? spec.label.replace(/…$/, "") : "Submit");
  const cancel = h("button", { type: "button", testid: "action-cancel", onClick: onCancel }, "Cancel");
  const form = h("form", {
    class: "action-form panel-inset", testid: "action-form", "data-action": action, "aria-labelledby": `${id}-title`, noValidate: true,
    onSubmit: async (event) => {
      event.preventDefault();
      error.textContent = "";
      const values = {};
      const missing = [];
      for (const field of fieldsOf(action, detail)) {
        const value = controls.get(field.name)();
        if (field.kind === "tasks") {
          if (value === null) missing.push("a title for each task");
          else if (!value.length) missing.push("at least one task");
          else values[field.name] = value;
          continue;
        }
        if (value === "" || value === null) {
          if (field.required) missing.push(field.label.replace(/ \(.*\)$/, ""));
          continue;
        }
        if (spec.onlyChanged && sameAsCurrent(field, detail, value)) continue;
        values[field.name] = field.number ? Number(value) : value;
      }
      if (missing.length) {
        error.textContent = `Please fill in: ${missing.join(", ")}.`;
        return;
      }
      if (spec.onlyChanged && !Object.keys(values).length) {
        error.textContent = "Change at least one field.";
        return;
      }
      submit.disabled = true;
      cancel.disabled = true;
      form.setAttribute("aria-busy", "true");
      try {
        const messages = await onSubmit(values);
        if (messages) error.textContent = messages;
      } finally {
        if (form.isConnected) {
          submit.disabled = false;
          cancel.disabled = false;
          form.removeAttribute("aria-busy");
        }
      }
    },
  },
  h("h3", { id: `${id}-title` }, spec.label.replace(/…$/, "")),
  spec.confirm ? h("p", {}, spec.confirm) : null,
  fieldElements,
  error,
  h("div", { class: "form-actions" }, submit, cancel));
  form.showError = (text) => { error.textContent = text; };
  return form;
}

function sameAsCurrent(field, detail, value) {
  const current = field.current?.(detail);
  return String(current ?? "") === String(value);
}

function buildField({ field, detail, people, formId }) {
  const id = `${formId}-${field.name}`;
  const label = h("label", { for: id }, field.label, field.required ? null : h("span", { class: "hint" }, " (optional)"));
  const current = field.current?.(detail);
  if (field.kind === "textarea") {
    const input = h("textarea", { id, name: field.name, testid: `input-${field.name}`, rows: 3, required: field.required, value: current ?? "" });
    return { element: h("div", { class: "field" }, label, input), read: () => input.value.trim() };
  }
  if (field.kind === "select") {
    let options = field.options;
    if (options === "members") {
      options = (detail.assignmentGroup?.members ?? []).map((member) => ({
        value: member.user.id, label: `${personName(member.user)}${member.isManager ? " (manager)" : ""}`,
      }));
    }
    const select = h("select", { id, name: field.name, testid: `input-${field.name}`, required: field.required },
      field.required && field.default === undefined ? h("option", { value: "" }, "Choose…") : null,
      field.required ? null : h("option", { value: "" }, "—"),
      options.map((option) => h("option", { value: option.value }, option.label)));
    const initial = current ?? field.default;
    if (initial !== undefined && initial !== null) select.value = String(initial);
    return { element: h("div", { class: "field" }, label, select), read: () => select.value };
  }
  if (field.kind === "person") {
    const listId = `${id}-people`;
    const suggestions = people.filter((person) => !field.suggest || person.roles?.includes(field.suggest));
    const input = h("input", { id, name: field.name, testid: `input-${field.name}`, type: "text", list: listId, autocomplete: "off", required: field.required });
    return {
      element: h("div", { class: "field" }, label, input,
        h("datalist", { id: listId }, suggestions.map((person) => h("option", { value: person.id }, personName(person))))),
      read: () => input.value.trim(),
    };
  }
  if (field.kind === "tasks") return buildTasksField({ field, people, id });
  const input = h("input", { id, name: field.name, testid: `input-${field.name}`, type: field.type ?? "text", required: field.required, value: current ?? "" });
  return { element: h("div", { class: "field" }, label, input), read: () => input.value.trim() };
}

/** Work-order lines: title (required), assignee and due time (optional); rows can be added. */
function buildTasksField({ field, people, id }) {
  const listId = `${id}-people`;
  const rows = h("ol", { class: "task-rows" });
  let rowSeq = 0;
  const addRow = () => {
    const n = ++rowSeq;
    const title = h("input", { id: `${id}-title-${n}`, type: "text", testid: "input-tasks-title" });
    const assignee = h("input", { id: `${id}-assignee-${n}`, type: "text", list: listId, testid: "input-tasks-assigneeId", autocomplete: "off" });
    const due = h("input", { id: `${id}-due-${n}`, type: "datetime-local", testid: "input-tasks-dueAt" });
    const row = h("li", { class: "task-row" },
      h("div", { class: "field" }, h("label", { for: title.id }, `Task ${n}`), title),
      h("div", { class: "field" }, h("label", { for: assignee.id }, "Assignee", h("span", { class: "hint" }, " (user id, optional)")), assignee),
      h("div", { class: "field" }, h("label", { for: due.id }, "Due", h("span", { class: "hint" }, " (optional)")), due),
      h("button", { type: "button", class: "link", "aria-label": `Remove task ${n}`, onClick: () => { if (rows.children.length > 1) row.remove(); } }, "Remove"));
    row.read = () => ({ title: title.value.trim(), assigneeId: assignee.value.trim() || null, dueAt: due.value ? new Date(due.value).toISOString() : null });
    rows.append(row);
    return row;
  };
  addRow();
  return {
    element: h("fieldset", { class: "field tasks-field", testid: "input-tasks" },
      h("legend", {}, field.label),
      rows,
      h("datalist", { id: listId }, people.map((person) => h("option", { value: person.id }, personName(person)))),
      h("button", { type: "button", testid: "add-task", onClick: () => addRow().querySelector("input").focus() }, "Add a task")),
    read: () => {
      const tasks = [...rows.children].map((row) => row.read()).filter((task) => task.title || task.assigneeId || task.dueAt);
      if (tasks.some((task) => !task.title)) return null;
      return tasks.map((task) => Object.fromEntries(Object.entries(task).filter(([, v]) => v !== null)));
    },
  };
}
