// The constituent portal (/portal): sign in, ask for a service, follow my requests live, answer
// questions, accept or reject a solution, rate the service.
//
// State lives here: the signed-in client, the services, a summary per case (kept current by the
// mutations' payloads and by the `caseEvents` feed of every case the constituent may see), and
// what the right-hand side shows (a service's form, a case, or a welcome).
//
// The language is the one chosen in this browser before, else the browser's own
// (`navigator.languages`); a signed-in person's choice is also their mail language on the server
// (`setMailPreferences`), and a choice made on another device is read back at sign-in.

import { refusalWords, refusalsWords } from "./refusals.js";
import { h, replace } from "../lib/dom.js";
import { CookieSession, GraphQLClient, GraphQLRequestError, forgetFileLinks, storeToken, storedToken, tokenClaims } from "../lib/graphql.js";
import {
  casesFilter, matchesFilter, renderCasesFooter, renderCasesFilter, renderCasesSearch, renderMyCases,
} from "./cases.js";
import { Banner, announce, clientMessage, renderLanguageMenu, showLiveStatus, showSignedIn } from "./chrome.js";
import { CaseDetail } from "./detail.js";
import { MailSettings } from "./mail-settings.js";
import { CASE, CASE_EVENTS, ME, MY_CASES, REQUEST_SIGN_IN_LINK, SERVICES, SET_MAIL_LANGUAGE } from "./documents.js";
import {
  LANGUAGES, language, languageFromBrowser, rememberLanguage, rememberedLanguage, t,
  translatePage, useLanguage,
} from "./i18n.js";
import { statusLabel } from "./labels.js";
import { renderFileForm, renderServices } from "./services.js";
import { SIGN_IN_TEXT, fill, renderSignIn } from "./signin.js";

const SCOPE = "portal";
// "My requests" is paged: the first page, then "Show more" for the next, as long as there are more.
const MY_CASES_PAGE = 20;

const page = {
  main: document.getElementById("content"),
  banner: new Banner(document.querySelector('[data-testid="error-banner"]')),
  liveStatus: document.querySelector('[data-testid="live-status"]'),
  signedInAs: document.querySelector('[data-testid="signed-in-as"]'),
  signOut: document.querySelector('[data-testid="sign-out"]'),
  languageMenu: document.querySelector('[data-testid="language-menu"]'),
};

let session = null; // the Portal of the signed-in constituent
// A session started by a mailed link: its access token is held here, in memory only.
const cookieSession = new CookieSession({
  onToken: (token) => {
    if (session?.fromCookie) session.api.token = token;
  },
  onEnded: () => {
    if (session?.fromCookie) signOut(SIGN_IN_TEXT.sessionEnded);
  },
});

page.signOut.addEventListener("click", () => signOut());

function signOut(message = null) {
  const fromCookie = session?.fromCookie;
  session?.leaveDraft();
  session?.close();
  const answered = session?.api.settled() ?? Promise.resolve();
  session = null;
  storeToken(SCOPE, null);
  // The sign-in screen once the server has ended the session: a reload then finds none. Requests
  // still on their way (the draft's last report) are answered first, with the session still valid.
  const ended = fromCookie
    ? answered.then(() => cookieSession.signOut()).catch(() => null)
    : forgetFileLinks().catch(() => null);
  if (window.location.hash) history.replaceState(null, "", window.location.pathname);
  showSignedIn(page.signedInAs, page.signOut, null);
  showLiveStatus(page.liveStatus, "offline");
  ended.then(() => showSignInScreen(message));
}

function showSignInScreen(message = null) {
  renderSignIn(page.main, { onToken: signIn, onAskLink: askLink, message });
}

/** Ask for a sign-in link: null when asked (whatever the address), else a message to show. */
async function askLink(email) {
  try {
    const { errors } = (await new GraphQLClient({ token: null }).request(REQUEST_SIGN_IN_LINK, { input: { email } }))
      .requestSignInLink;
    return errors.length ? refusalWords(errors[0]) : null;
  } catch (error) {
    if (error instanceof GraphQLRequestError && error.code === "RATE_LIMITED") return SIGN_IN_TEXT.linkRateLimited;
    return fill(SIGN_IN_TEXT.linkFailed, { reason: clientMessage(error.message).replace(/\.$/, "") });
  }
}

/** Try a token: null when signed in, else why not (shown on the sign-in screen). */
async function signIn(token) {
  return (await tryToken(token))?.message ?? null;
}

/** null when signed in, else {message, refused}: refused when the token itself is no good.
 * `fromCookie`: the token came from the session cookie; it is kept in memory only. */
async function tryToken(token, { fromCookie = false } = {}) {
  if (!token) return { message: t("signin.pasteToken"), refused: true };
  const claims = tokenClaims(token);
  if (!claims) return { message: t("signin.notAToken"), refused: true };
  const api = new GraphQLClient({ token, renew: fromCookie ? () => cookieSession.refresh() : null });
  let me;
  let mailPreferences;
  try {
    ({ me, mailPreferences } = await api.request(ME));
  } catch (error) {
    if (error instanceof GraphQLRequestError && error.code === "UNAUTHENTICATED") {
      return { message: t("signin.expired"), refused: true };
    }
    const reason = clientMessage(error.message).replace(/\.$/, "");
    return { message: t("signin.failed", { reason }), refused: false };
  }
  if (!me.roles.includes("CONSTITUENT")) {
    return { message: t("signin.staff"), refused: true };
  }
  if (!fromCookie) {
    storeToken(SCOPE, token); // a pasted or demo token (development)
    // Thumbnails and downloads are plain links: they need the download cookie this token gives.
    await api.allowFileLinks().catch(() => null);
  }
  page.banner.hide();
  session?.close();
  await adoptLanguageChosenElsewhere(mailPreferences);
  session = new Portal(api, me, mailPreferences);
  session.fromCookie = fromCookie;
  showSignedIn(page.signedInAs, page.signOut, me.name ?? me.email ?? me.id);
  if (mailPreferences && mailPreferences.locale !== language()) {
    // What the page shows without a choice made elsewhere: a choice only if made in this browser.
    session.saveLanguage(language(), { chosen: rememberedLanguage() !== null });
  }
  await session.start();
  return null;
}

/**
 * A person who chose a language on another device gets it here too, unless they chose one in this
 * browser. A `locale` they never chose (every account starts with English) is not taken as a
 * choice: the browser's language is kept (and becomes the mail language). A chosen English is.
 */
async function adoptLanguageChosenElsewhere(mailPreferences) {
  const theirs = mailPreferences?.locale;
  if (rememberedLanguage() || !theirs || !mailPreferences.localeChosen || !(theirs in LANGUAGES)) return;
  if (theirs === language()) return;
  rememberLanguage(theirs);
  await showLanguage(theirs);
}

/** Redraw the page furniture in `code` (the content is redrawn by its owner). */
async function showLanguage(code) {
  await useLanguage(code);
  translatePage();
  // The live pill's text in the markup is its first state's; it says the current one.
  showLiveStatus(page.liveStatus, page.liveStatus.dataset.status);
  renderLanguageMenu(page.languageMenu, chooseLanguage);
}

/** The visitor picked a language in the header: remembered here, and for their mails. */
async function chooseLanguage(code) {
  try {
    await showLanguage(code);
  } catch (error) {
    // Its catalogue could not be loaded (offline?): the page stays as it was, and says why.
    renderLanguageMenu(page.languageMenu, chooseLanguage);
    page.banner.show(t("error.unexpected", { reason: error.message }));
    return;
  }
  rememberLanguage(code);
  if (session) {
    session.redraw();
    session.saveLanguage(code);
  } else {
    showSignInScreen();
  }
  // The menu was drawn anew (and the content may have taken focus): the visitor stays on it.
  page.languageMenu.querySelector("select")?.focus();
}

class Portal {
  constructor(api, me, mailPreferences) {
    this.api = api;
    this.me = me;
    this.mailLanguages = mailPreferences?.languages ?? []; // the languages the server can write mails in
    this.mailSettings = new MailSettings({
      api, email: me.email, preferences: mailPreferences, onFailed: (error) => this._failed(error),
    });
    this.services = [];
    this.cases = new Map(); // id -> case summary (of the pages loaded, and any the live feed told of)
    this.casesFilter = "all"; // one of CASE_FILTERS
    this.casesSearch = ""; // the search box's words ("" for none)
    // While searching: the ids the search found, in its order (most relevant first); else null.
    this.searchHits = null;
    this.casesTotal = null; // how many requests the filter selects (the server's count)
    this.nextCursor = null; // where the next page starts; null when there is none
    this.loadingMore = false;
    this.draft = null; // the suggestions of the filing form on screen (reports the draft left)
    this.selected = null; // { kind: "service", code } | { kind: "case", id } | null
    this.lastEventId = null;
    this.everLive = false;
    this.refreshing = new Map(); // case id -> { running, again } (one detail refetch at a time)
    this.stopFeed = null;
    this.stopStatus = null;
    this._layout();
    this.detail = new CaseDetail(this.side, {
      api, banner: page.banner, me,
      onReload: (id) => this._refreshCase(id),
      onChanged: (item) => {
        this._remember(item);
        if (this.selected?.kind === "case" && this.selected.id === item.id) this.detail.show(item);
      },
    });
  }

  _layout() {
    // Busy until their first load completes (tests wait for that too).
    this.servicesList = h("ul", { class: "plain services", testid: "services", "aria-busy": "true" },
      h("li", { class: "muted" }, t("common.loading")));
    this.casesList = h("ul", { class: "plain my-cases", testid: "my-cases", "aria-live": "polite", "aria-busy": "true" },
      h("li", { class: "muted" }, t("common.loading")));
    this.servicesHeading = h("h2", { id: "services-heading" }, t("lists.services"));
    this.casesHeading = h("h2", { id: "my-cases-heading" }, t("lists.myCases"));
    this.casesFilterBox = h("div", { class: "cases-filter" });
    this.casesSearchBox = renderCasesSearch(this.casesSearch, (text) => this._search(text));
    this.casesFooter = h("div", { class: "cases-footer" });
    this.side = h("div", { class: "portal-side" });
    replace(
      page.main,
      h(
        "div",
        { class: "portal-layout" },
        h(
          "div",
          { class: "portal-lists" },
          h("section", { class: "panel", "aria-labelledby": "services-heading" },
            this.servicesHeading, this.servicesList),
          h("section", { class: "panel", "aria-labelledby": "my-cases-heading" },
            this.casesHeading, this.casesSearchBox, this.casesFilterBox, this.casesList, this.casesFooter),
          this.mailSettings.element,
        ),
        this.side,
      ),
    );
  }

  /** Everything drawn again in the current language (after a switch). */
  redraw() {
    this.servicesHeading.textContent = t("lists.services");
    this.casesHeading.textContent = t("lists.myCases");
    this.mailSettings.draw();
    if (!this.servicesList.hasAttribute("aria-busy")) this._drawServices();
    if (!this.casesList.hasAttribute("aria-busy")) this._drawCases();
    const selected = this.selected;
    if (selected?.kind === "case" && this.detail.current?.id === selected.id) this.detail.show(this.detail.current);
    else if (selected?.kind === "service") {
      const service = this.services.find((each) => each.code === selected.code);
      if (service) this._redrawFileForm(service);
    } else if (!selected) this._showWelcome();
  }

  /** The filing form again, with what the visitor had typed in it. */
  _redrawFileForm(service) {
    const typed = [...this.side.querySelectorAll("input, textarea")].map((control) => [control.id, control.value]);
    this.openService(service, this.draft);
    for (const [id, value] of typed) {
      const control = document.getElementById(id);
      if (control) control.value = value;
    }
  }

  /**
   * Make `code` the person's mail language too (when the server writes mails in it); `chosen`:
   * picked by them (kept on their other devices), not only their browser's language.
   */
  async saveLanguage(code, { chosen = true } = {}) {
    if (!this.mailLanguages.includes(code)) return;
    try {
      const input = { locale: code, localeChosen: chosen };
      const payload = (await this.api.request(SET_MAIL_LANGUAGE, { input })).setMailPreferences;
      if (payload.errors.length) page.banner.show(refusalsWords(payload.errors));
    } catch (error) {
      this._failed(error);
    }
  }

  async start() {
    this.stopStatus = this.api.onStatus((status) => {
      showLiveStatus(page.liveStatus, status);
      if (status !== "live") return;
      // Back after an outage: the feed resumes after the last event seen and replays what was
      // missed; with no event seen yet there is nothing to resume from, so reload instead.
      if (this.everLive && this.lastEventId === null) this._loadCases();
      this.everLive = true;
    });
    this.stopFeed = this.api.subscribe(CASE_EVENTS, () => ({ after: this.lastEventId }), {
      next: (data, errors) => {
        if (errors?.length) page.banner.show(refusalsWords(errors.map((e) => e.extensions ?? {})));
        if (data?.caseEvents) this._onEvent(data.caseEvents);
      },
      error: (errors) => page.banner.show(t("live.stopped", { reasons: errors.map((e) => clientMessage(e.message)).join("; ") })),
    });
    this._showWelcome();
    await Promise.all([this._loadServices(), this._loadCases()]);
    // A link to one request (mails carry /portal#case-<id>) opens it even when it is not on the
    // first page of the list; one the visitor may not see reads as gone.
    const wanted = /^#case-(.+)$/.exec(window.location.hash)?.[1];
    if (wanted) this.openCase(decodeURIComponent(wanted));
  }

  /** The filing form on screen is left without filing (the draft's reads are then counted as deflected). */
  leaveDraft() {
    this.draft?.left();
    this.draft = null;
  }

  close() {
    this.stopFeed?.();
    this.stopStatus?.();
    this.api.close();
  }

  async _loadServices() {
    try {
      this.services = (await this.api.request(SERVICES)).serviceDefinitions;
    } catch (error) {
      this._failed(error);
    }
    this._drawServices();
  }

  /** The first page of requests under the current filter (again, after a filter change or an outage). */
  async _loadCases() {
    const filter = this.casesFilter;
    const search = this.casesSearch;
    try {
      const { cases } = await this.api.request(MY_CASES, { first: MY_CASES_PAGE, filter: casesFilter(filter, search) });
      // The visitor chose another filter or changed the search meanwhile.
      if (filter !== this.casesFilter || search !== this.casesSearch) return;
      this.cases = new Map(cases.edges.map((edge) => [edge.node.id, edge.node]));
      this.searchHits = search ? cases.edges.map((edge) => edge.node.id) : null;
      this.casesTotal = cases.totalCount;
      this.nextCursor = cases.pageInfo.hasNextPage ? cases.pageInfo.endCursor : null;
    } catch (error) {
      this._failed(error);
    }
    this._drawCases();
  }

  async _loadMoreCases() {
    if (this.loadingMore || !this.nextCursor) return;
    const filter = this.casesFilter;
    const search = this.casesSearch;
    this.loadingMore = true;
    this._drawCases();
    try {
      const { cases } = await this.api.request(MY_CASES, {
        first: MY_CASES_PAGE, after: this.nextCursor, filter: casesFilter(filter, search),
      });
      if (filter === this.casesFilter && search === this.casesSearch) {
        for (const edge of cases.edges) if (!this.cases.has(edge.node.id)) this.cases.set(edge.node.id, edge.node);
        if (this.searchHits) this.searchHits.push(...cases.edges.map((edge) => edge.node.id));
        this.casesTotal = cases.totalCount;
        this.nextCursor = cases.pageInfo.hasNextPage ? cases.pageInfo.endCursor : null;
      }
    } catch (error) {
      this._failed(error);
    } finally {
      this.loadingMore = false;
    }
    this._drawCases();
  }

  /** New search words: the server searches the requests again (same filter). */
  _search(text) {
    if (text === this.casesSearch) return;
    this.casesSearch = text;
    this.casesTotal = null;
    this.nextCursor = null;
    this.casesList.setAttribute("aria-busy", "true");
    this._loadCases();
  }

  _chooseFilter(filter) {
    if (filter === this.casesFilter) return;
    this.casesFilter = filter;
    this.casesTotal = null;
    this.nextCursor = null;
    // The requests at hand that match are shown at once; the filter's own first page follows.
    this._drawCases();
    this.casesList.setAttribute("aria-busy", "true");
    this._loadCases();
  }

  _failed(error) {
    if (error instanceof GraphQLRequestError && error.code === "UNAUTHENTICATED") {
      signOut(t("error.UNAUTHENTICATED"));
      return;
    }
    page.banner.show(error.message, error.code);
  }

  _drawServices() {
    this.servicesList.removeAttribute("aria-busy");
    renderServices(this.servicesList, this.services, {
      selectedCode: this.selected?.kind === "service" ? this.selected.code : null,
      onChoose: (service) => this.openService(service),
    });
  }

  _drawCases() {
    this.casesList.removeAttribute("aria-busy");
    // A request the live feed moved out of the filter (closed while "open" is shown) leaves the list.
    // While searching, the search's requests in its order (one the live feed brings in may not match it).
    const candidates = this.searchHits
      ? this.searchHits.map((id) => this.cases.get(id)).filter(Boolean)
      : [...this.cases.values()];
    const shown = candidates.filter((item) => matchesFilter(this.casesFilter, item.status));
    renderCasesFilter(this.casesFilterBox, this.casesFilter, (filter) => this._chooseFilter(filter));
    renderMyCases(this.casesList, shown, {
      ranked: this.searchHits !== null,
      selectedId: this.selected?.kind === "case" ? this.selected.id : null,
      onOpen: (id) => this.openCase(id),
    });
    renderCasesFooter(this.casesFooter, {
      shown: shown.length,
      total: this.casesTotal === null ? null : Math.max(this.casesTotal, shown.length),
      more: this.nextCursor !== null,
      loading: this.loadingMore,
      onMore: () => this._loadMoreCases(),
    });
  }

  _showWelcome() {
    replace(
      this.side,
      h(
        "section",
        { class: "panel welcome" },
        // Signed in by mailed link, a person has an address and no name yet; never their id.
        h("h2", { testid: "welcome-heading" }, this.me.name || this.me.email
          ? t("welcome.heading", { name: this.me.name || this.me.email })
          : t("welcome.headingNoName")),
        h("p", {}, t("welcome.intro")),
        h("p", { class: "muted" }, t("welcome.live")),
      ),
    );
  }

  /** The filing form of `service`; `draft`: the same draft's suggestions, when it is drawn again. */
  openService(service, draft = null) {
    if (!draft) this.leaveDraft();
    this.selected = { kind: "service", code: service.code };
    this.detail.clear();
    history.replaceState(null, "", window.location.pathname);
    this._drawServices();
    this._drawCases();
    this.draft = renderFileForm(this.side, service, {
      api: this.api,
      banner: page.banner,
      draft,
      onFiled: (item) => {
        this.draft = null;
        const counted = this.casesTotal !== null && !this.searchHits && !this.cases.has(item.id);
        if (counted && matchesFilter(this.casesFilter, item.status)) this.casesTotal += 1;
        this._remember(item);
        announce(t("announce.filed", { number: item.number }));
        this.openCase(item.id, item);
      },
      onCancel: () => {
        this.draft = null;
        this.selected = null;
        this._drawServices();
        this._showWelcome();
      },
    });
  }

  /** Show a case; `known` is its full state when the caller has it already (no refetch). */
  async openCase(id, known = null) {
    this.leaveDraft();
    this.selected = { kind: "case", id };
    history.replaceState(null, "", `#case-${encodeURIComponent(id)}`);
    this._drawServices();
    this._drawCases();
    if (known) {
      this.detail.show(known);
    } else {
      if (this.detail.caseId !== id) {
        this.detail.clear();
        replace(this.side, h("p", { class: "panel muted", "aria-busy": "true" }, t("common.loading")));
      }
      await this._refreshCase(id);
    }
    // Chosen by the visitor: take keyboard and screen-reader focus (and, on a phone, the view)
    // to the case. Live redraws never move focus.
    if (this.selected?.kind === "case" && this.selected.id === id) this.detail.focusHeading();
  }

  /** Refetch one case; concurrent calls collapse into one more fetch after the running one. */
  async _refreshCase(id) {
    const state = this.refreshing.get(id);
    if (state) {
      state.again = true;
      return;
    }
    this.refreshing.set(id, { again: false });
    try {
      let again = true;
      while (again) {
        this.refreshing.get(id).again = false;
        let item;
        try {
          item = (await this.api.request(CASE, { id })).case;
        } catch (error) {
          this._failed(error);
          return;
        }
        if (item) this._remember(item);
        else this._forget(id);
        if (this.selected?.kind === "case" && this.selected.id === id) {
          if (item) this.detail.show(item);
          else replace(this.side, h("p", { class: "panel empty" }, t("case.gone")));
        }
        again = this.refreshing.get(id).again;
      }
    } finally {
      this.refreshing.delete(id);
    }
  }

  /** Keep the count of the filter's requests true as the live feed moves one in or out of it. */
  _recount(before, item) {
    // A search's count is the server's: whether a changed request matches the words it cannot tell.
    if (this.casesTotal === null || this.searchHits) return;
    const was = before ? matchesFilter(this.casesFilter, before.status) : false;
    const is = matchesFilter(this.casesFilter, item.status);
    // An unknown case may be one of the pages not loaded yet: only a new one (just created) is added.
    if (!before && item.version !== 1) return;
    this.casesTotal += Number(is) - Number(was);
  }

  _remember(item) {
    const before = this.cases.get(item.id);
    this.cases.set(item.id, { ...before, ...pickSummary(item) });
    this._drawCases();
  }

  _forget(id) {
    this.cases.delete(id);
    this._drawCases();
  }

  _onEvent(event) {
    this.lastEventId = event.id;
    const item = event.case;
    if (!item) {
      this._loadCases(); // a case no longer visible (deleted): the list tells what is left
      return;
    }
    const before = this.cases.get(item.id);
    if (before && item.version < before.version) return; // older than what a payload already showed
    this._recount(before, item);
    if (before?.status !== item.status) {
      announce(t("announce.status", { number: item.number, status: statusLabel(item.status) }));
    }
    this._remember(item);
    if (this.selected?.kind === "case" && this.selected.id === item.id) {
      // The summary is in the event; comments, actions and the rest come with a refetch.
      this._refreshCase(item.id);
    }
  }
}

const SUMMARY_FIELDS = ["id", "number", "title", "status", "stage", "workflow", "version", "updatedAt", "submittedAt", "caseType"];

function pickSummary(item) {
  return Object.fromEntries(SUMMARY_FIELDS.filter((key) => key in item).map((key) => [key, item[key]]));
}

await showLanguage(rememberedLanguage() ?? languageFromBrowser());
// Closing or leaving the page with a filing form open leaves that draft.
window.addEventListener("pagehide", () => session?.leaveDraft());

const saved = storedToken(SCOPE);
if (saved) {
  tryToken(saved).then((failure) => {
    // A refused token is forgotten; one that could not be checked (server unreachable) is
    // kept, so reloading the page later signs in again.
    if (failure?.refused) signOut(failure.message);
    else if (failure) showSignInScreen(failure.message);
  });
} else {
  // Signed in by a mailed link before (this page, or before a reload)? The cookie says.
  cookieSession
    .refresh()
    .catch(() => null)
    .then((token) => (token ? tryToken(token, { fromCookie: true }) : { message: null }))
    .then(async (failure) => {
      if (!failure) return;
      // A session this portal will not use (staff signed in with the identity provider here):
      // ended, so it does not come back at every reload.
      if (failure.refused) await cookieSession.signOut().catch(() => null);
      showSignInScreen(failure.message);
    });
}
