// The signed-in dashboard: queue and case side by side, analytics below, one WebSocket for the
// live feeds. The queue feed is `queueEvents` over all my groups (ADMIN and users without a
// group: `caseEvents` of every case they may see); each event carries the case's queue row, so
// a row is updated in place without a query. Feeds resume after the last event seen.

import { h } from "../lib/dom.js";
import { GraphQLClient } from "../lib/graphql.js";
import { AnalyticsView } from "./analytics.js";
import { CaseView } from "./case-view.js";
import { IntakeForm } from "./intake-form.js";
import { MailSettings } from "./mail-settings.js";
import { NotificationBell } from "./notifications.js";
import { actionLabel, personName, statusLabel } from "./format.js";
import { ALL_CASE_EVENTS, QUEUE_EVENTS } from "./queries.js";
import { QueueView } from "./queue.js";
import { isStaff, loadDemoUsers } from "./signin.js";

const ANALYTICS_ROLES = new Set(["AGENT", "MANAGER", "ADMIN"]);
const INTAKE_ROLES = new Set(["AGENT", "MANAGER", "ADMIN"]);
const LIVE_WAIT = 1500; // ms: load the queue once the feed is live (or after this, regardless)

export class Dashboard {
  // `renew`: for a session kept by the refresh cookie, how to get a fresh access token.
  constructor({ shell, token, claims, onSignOut, renew = null }) {
    this.shell = shell;
    this.claims = claims ?? {};
    this.onSignOut = onSignOut;
    this.api = new GraphQLClient({ token, renew });
    this.me = null;
    this.lastQueueEventId = null;
    this.people = [];
  }

  start() {
    const shell = this.shell;
    shell.setUser(this.claims.name || this.claims.sub || "…", () => this.onSignOut());
    this.queue = new QueueView({
      api: this.api,
      onOpen: (caseId) => { window.location.hash = `#/case/${encodeURIComponent(caseId)}`; },
      onError: (error) => this.handleError(error),
      onLoaded: (me) => this.signedIn(me),
    });
    this.caseView = new CaseView({
      api: this.api,
      me: { id: this.claims.sub, roles: this.claims.roles ?? [] }, // the server's `me` replaces it once loaded
      people: () => this.people,
      onChanged: (detail) => this.queue.updateFromCase(detail),
      onClose: () => { window.location.hash = ""; },
      onError: (error) => this.handleError(error),
      announce: (text) => shell.announce(text),
    });
    this.analytics = new AnalyticsView({ api: this.api, onError: (error) => this.handleError(error) });
    // Intake by staff: "New case" (#/new) takes the case pane's place until the case is filed.
    this.intake = new IntakeForm({
      api: this.api,
      onFiled: (caseId) => { window.location.hash = `#/case/${encodeURIComponent(caseId)}`; },
      onCancel: () => { window.location.hash = ""; },
      onError: (error) => this.handleError(error),
      announce: (text) => shell.announce(text),
    });
    this.intake.element.hidden = true;
    this.newCaseButton = h("button", {
      type: "button", class: "primary", testid: "new-case", onClick: () => { window.location.hash = "#/new"; },
    }, "New case");
    shell.main.replaceChildren(
      h("h1", { class: "visually-hidden" }, "Service desk"),
      h("div", { class: "desk-tools" }, this.newCaseButton),
      h("div", { class: "desk" }, this.queue.element, this.caseView.element, this.intake.element),
      this.analytics.element);

    this.startQueueFeed(); // opens the socket: the status is "connecting" from here on
    let wasLive = false;
    let liveResolve;
    const live = new Promise((resolve) => { liveResolve = resolve; });
    this.stopStatus = this.api.onStatus((status) => {
      shell.setLiveStatus(status);
      // "offline" too: a refused token or a server without live events should not delay the page.
      if (status !== "connecting") liveResolve();
      if (status !== "live") return;
      // Back after an outage with no event seen yet: nothing to resume after, so reload.
      if (wasLive && this.lastQueueEventId === null && this.me) this.queue.load();
      wasLive = true;
    });

    this.onHashChange = () => this.route();
    window.addEventListener("hashchange", this.onHashChange);
    // Subscribe first, then query: what changes meanwhile reaches the page either way.
    Promise.race([live, new Promise((resolve) => window.setTimeout(resolve, LIVE_WAIT))]).then(() => {
      if (this.stopped) return;
      this.queue.load();
      this.route();
    });
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("hashchange", this.onHashChange);
    window.clearInterval(this.caseView?.timerTick);
    window.clearInterval(this.queue?.clock);
    window.clearTimeout(this.analytics?.autoTimer);
    this.stopStatus?.();
    this.bell?.stop();
    this.api.close();
  }

  signedIn(me) {
    if (this.me) return;
    if (!isStaff(me.roles)) {
      this.onSignOut("This dashboard is for staff. Constituents file and follow their cases on the portal (/portal).");
      return;
    }
    this.me = me;
    this.caseView.me = me;
    // Taking calls is for agents, managers and administrators (registerConstituent says so too).
    this.newCaseButton.hidden = !me.roles.some((role) => INTAKE_ROLES.has(role));
    this.shell.setUser(me.name || me.id, () => this.onSignOut());
    this.mailSettings = new MailSettings({
      api: this.api, onError: (error) => this.handleError(error), announce: (text) => this.shell.announce(text),
    });
    this.shell.settings.replaceChildren(this.mailSettings.element);
    this.mailSettings.load();
    this.bell = new NotificationBell({
      api: this.api,
      onOpenCase: (caseId) => { window.location.hash = `#/case/${encodeURIComponent(caseId)}`; },
      onError: (error) => this.handleError(error),
    });
    this.shell.bell.replaceChildren(this.bell.element);
    this.bell.start();
    // The server refuses analytics to other roles (a field agent has no desk figures).
    if (me.roles.some((role) => ANALYTICS_ROLES.has(role))) {
      this.analytics.setGroups(me.groups);
      this.analytics.load();
    } else {
      this.analytics.element.hidden = true;
    }
    // Suggestions for person inputs: my groups' members, and in development the demo users.
    loadDemoUsers().then((users) => {
      const people = new Map(users.filter((u) => isStaff(u.roles)).map((u) => [u.id, { id: u.id, name: u.name, roles: u.roles }]));
      this.people = [...people.values()];
    });
  }

  startQueueFeed() {
    const roles = this.claims.roles ?? [];
    const groupsFeed = roles.includes("AGENT") || roles.includes("MANAGER");
    const [query, key] = groupsFeed && !roles.includes("ADMIN") ? [QUEUE_EVENTS, "queueEvents"] : [ALL_CASE_EVENTS, "caseEvents"];
    const variables = () => (key === "queueEvents"
      ? { scope: "MY_GROUPS", after: this.lastQueueEventId }
      : { after: this.lastQueueEventId });
    this.api.subscribe(query, variables, {
      next: (data, errors) => {
        const event = data?.[key];
        if (event) this.onQueueEvent(event);
        else if (errors?.length) this.shell.showError(`Live update failed: ${errors.map((e) => e.message).join("; ")}`);
      },
      error: (errors) => this.shell.showError(`Live updates stopped: ${(errors ?? []).map((e) => e.message).join("; ") || "the server ended the feed."}`),
    });
  }

  onQueueEvent(event) {
    this.lastQueueEventId = event.id;
    const outcome = this.queue.applyEvent(event);
    if (event.case && event.case.id === this.caseView.caseId) this.caseView.onEvent(event);
    if (!this.analytics.element.hidden) this.analytics.changed();
    const byOther = event.actor && event.actor.id !== this.me?.id;
    if (outcome && byOther && event.case) {
      const verb = { added: "New case", updated: "Updated", removed: "Left the queue" }[outcome];
      const what = event.action === "CREATE" ? "filed" : actionLabel(event.action).toLowerCase();
      this.shell.announce(`${verb}: ${event.case.number} (${statusLabel(event.case.status)}), ${what} by ${personName(event.actor)}.`);
    }
  }

  route() {
    const intake = window.location.hash === "#/new";
    this.caseView.element.hidden = intake;
    if (intake !== !this.intake.element.hidden) {
      this.intake.element.hidden = !intake;
      if (intake) this.intake.open();
    }
    if (intake) {
      if (this.caseView.caseId) this.caseView.close();
      this.queue.setOpenCase(null);
      return;
    }
    const match = /^#\/case\/(.+)$/.exec(window.location.hash);
    const caseId = match ? decodeURIComponent(match[1]) : null;
    this.queue.setOpenCase(caseId);
    if (caseId) {
      this.caseView.open(caseId);
      // Stacked layout (narrow screens): the case is below the queue, bring it into view.
      if (window.matchMedia("(max-width: 1000px)").matches) this.caseView.element.scrollIntoView({ block: "start" });
    } else if (this.caseView.caseId) {
      this.caseView.close();
    }
  }

  handleError(error) {
    if (error?.code === "UNAUTHENTICATED") {
      this.onSignOut(`Your sign-in was refused: ${error.message}`);
      return;
    }
    this.shell.showError(error?.message || String(error));
  }
}
