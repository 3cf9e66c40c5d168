// The portal's words in the visitor's language. Each language is one catalogue,
// portal/i18n/<code>.json: a flat object of texts with {name} placeholders. English is loaded with
// the module (it is also what a missing text falls back to); another language is loaded when it
// is chosen. Adding a language is adding its file and listing it in LANGUAGES.
//
// Dates and numbers go through Intl with the chosen language, never a hand-written format.

import english from "./i18n/en.json" with { type: "json" };

/** The languages offered, each named in itself (that is how people look for theirs). */
export const LANGUAGES = { en: "English", es: "Español" };
export const DEFAULT_LANGUAGE = "en";
// The visitor's explicit choice, kept in this browser.
const CHOICE_KEY = "casegraph.portal.language";

let current = DEFAULT_LANGUAGE;
let formatting = DEFAULT_LANGUAGE; // the locale Intl writes dates and numbers for
let catalogue = english;
let dateTime = null;
let numbers = null;

/** The text for `key` in the current language, with `{name}` placeholders filled from `values`. */
export function t(key, values = {}) {
  const text = catalogue[key] ?? english[key];
  if (text === undefined) throw new Error(`portal catalogue has no text "${key}"`);
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? formatValue(values[name]) : whole));
}

function formatValue(value) {
  return typeof value === "number" ? formatNumber(value) : String(value);
}

export function language() {
  return current;
}

/** The first of the browser's preferred languages that the portal has (`es-ES` → `es`). */
export function languageFromBrowser(preferred = globalThis.navigator?.languages ?? []) {
  for (const tag of preferred) {
    const primary = String(tag).toLowerCase().split("-")[0];
    if (primary in LANGUAGES) return primary;
  }
  return DEFAULT_LANGUAGE;
}

/**
 * The locale dates and numbers are written for in `code`: the browser's own tag for that language
 * when it has one (`en-GB` writes the day first, `en-US` the month), else the language itself.
 */
export function formattingLocale(code, preferred = globalThis.navigator?.languages ?? []) {
  return preferred.find((tag) => String(tag).toLowerCase().split("-")[0] === code) ?? code;
}

/** The language chosen in this browser before, or null. */
export function rememberedLanguage() {
  try {
    const code = globalThis.localStorage?.getItem(CHOICE_KEY);
    return code && code in LANGUAGES ? code : null;
  } catch {
    return null; // storage refused (privacy settings): no memory, the browser's language is used
  }
}

export function rememberLanguage(code) {
  try {
    globalThis.localStorage?.setItem(CHOICE_KEY, code);
  } catch {
    // storage refused: the choice lasts for this page only
  }
}

/** Switch to `code` (one of LANGUAGES): loads its catalogue and sets `<html lang>`. */
export async function useLanguage(code) {
  if (!(code in LANGUAGES)) throw new Error(`the portal has no language "${code}"`);
  catalogue = code === DEFAULT_LANGUAGE
    ? english
    : (await import(`./i18n/${code}.json`, { with: { type: "json" } })).default;
  current = code;
  formatting = formattingLocale(code);
  dateTime = null;
  numbers = null;
  if (globalThis.document) document.documentElement.lang = code;
}

export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  dateTime ??= new Intl.DateTimeFormat(formatting, { dateStyle: "medium", timeStyle: "short" });
  return dateTime.format(date);
}

export function formatNumber(value) {
  numbers ??= new Intl.NumberFormat(formatting);
  return numbers.format(value);
}

/** Put the catalogue's texts into the page's own markup: `data-i18n` (text), `data-i18n-title`. */
export function translatePage(root = document) {
  document.title = t("page.title");
  for (const element of root.querySelectorAll("[data-i18n]")) element.textContent = t(element.dataset.i18n);
  for (const element of root.querySelectorAll("[data-i18n-title]")) element.title = t(element.dataset.i18nTitle);
}
