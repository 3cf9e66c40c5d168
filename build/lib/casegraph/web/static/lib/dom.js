// Building DOM without innerHTML: every text from the server goes through a text node, so nothing
// it says can become markup.
//
//   h("button", { class: "primary", testid: "login-submit", onClick: go, disabled: busy }, "Sign in")
//
// attrs: `class` (string or array, falsy entries dropped), `testid` (→ data-testid), `data-*`
// and `aria-*` keys as attributes, `on<Event>` functions as listeners, `style` as an object,
// `value`/`checked`/`selected`/`disabled`/`hidden` etc. as properties when the element has them,
// anything else as an attribute; `null`/`undefined`/`false` values are skipped.
// children: strings/numbers (text nodes), nodes, arrays (flattened), null/undefined/false (skipped).

export function h(tag, attrs = {}, ...children) {
  const el = tag.includes(":") || tag === "svg"
    ? document.createElementNS("http://www.w3.org/2000/svg", tag.replace(/^svg:/, ""))
    : document.createElement(tag);
  setAttrs(el, attrs ?? {});
  append(el, children);
  return el;
}

/** An SVG element (charts): attributes are always set as attributes. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "testid") el.setAttribute("data-testid", String(value));
    else if (key === "class") el.setAttribute("class", classNames(value));
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

// Read-only (or differently named) as properties: always set as attributes.
const ATTRIBUTE_ONLY = new Set(["role", "for", "list", "form"]);

function classNames(value) {
  return Array.isArray(value) ? value.filter(Boolean).join(" ") : String(value);
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class" || key === "className") {
      const names = classNames(value);
      if (names) el.setAttribute("class", names);
    } else if (key === "testid") {
      el.setAttribute("data-testid", String(value));
    } else if (key === "style" && typeof value === "object") {
      Object.assign(el.style, value);
    } else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key.startsWith("data-") || key.startsWith("aria-") || ATTRIBUTE_ONLY.has(key)) {
      el.setAttribute(key, String(value));
    } else if (key in el && !(el instanceof SVGElement)) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** Append children (strings become text nodes; arrays are flattened; falsy ones skipped). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === true) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Remove every child of `el`. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replace the children of `el` with `children`. */
export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}
