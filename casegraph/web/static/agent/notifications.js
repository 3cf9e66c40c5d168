// The bell in the header: how many notifications are unread (live, through the `notificationBell`
// subscription), and the list of the newest — each opens its case and is marked read; "Mark all
// read" empties the count. A disclosure button and a list of buttons, so it works by keyboard
// (Escape closes it and gives focus back to the bell); the count is read out by screen readers
// through a polite live region when it changes.

import { h } from "../lib/dom.js";
import { notificationKindLabel } from "../lib/labels.js";
import { formatRelative } from "./format.js";

const FIELDS = "unreadCount newest { id kind text createdAt readAt case { id number title } }";
const BELL = `query AgentNotificationBell($first: Int!) { notificationBell(first: $first) { ${FIELDS} } }`;
const BELL_UPDATES = `subscription AgentNotificationBellUpdates($first: Int!) { notificationBell(first: $first) { ${FIELDS} } }`;
const MARK_READ = "mutation AgentMarkNotificationsRead($ids: [ID!]) { markNotificationsRead(ids: $ids) }";
const SHOWN = 20;

export class NotificationBell {
  constructor({ api, onOpenCase, onError }) {
    this.api = api;
    this.onOpenCase = onOpenCase;
    this.onError = onError;
    this.unread = null;
    this.count = h("span", { class: "bell-count", testid: "notification-count", "aria-hidden": "true" }, "0");
    this.spoken = h("span", { class: "visually-hidden", "aria-live": "polite", testid: "notification-count-spoken" });
    this.button = h("button", {
      type: "button", class: "bell", testid: "notification-bell",
      "aria-expanded": "false", "aria-controls": "notification-panel", onClick: () => this.toggle(),
    }, h("span", { "aria-hidden": "true" }, "🔔 "), "Notifications ", this.count);
    this.list = h("ul", { class: "notification-list", testid: "notification-list" });
    this.markAllButton = h("button", {
      type: "button", class: "link", testid: "notifications-mark-all-read", onClick: () => this.markAllRead(),
    }, "Mark all read");
    this.panel = h("section", {
      id: "notification-panel", class: "notification-panel", testid: "notification-panel",
      "aria-label": "Notifications", hidden: true, onKeydown: (event) => this.onKey(event),
    },
      h("div", { class: "notification-panel-heading" }, h("h2", {}, "Notifications"), this.markAllButton),
      this.list,
    );
    this.element = h("span", { class: "notification-bell" }, this.button, this.spoken, this.panel);
  }

  start() {
    this.load();
    this.stopUpdates = this.api.subscribe(BELL_UPDATES, { first: SHOWN }, {
      next: (data) => { if (data?.notificationBell) this.show(data.notificationBell); },
      error: () => null, // the query above still shows the bell; the socket's status says live is off
    });
  }

  stop() {
    this.stopUpdates?.();
  }

  async load() {
    try {
      this.show((await this.api.request(BELL, { first: SHOWN })).notificationBell);
    } catch (error) {
      this.onError(error);
    }
  }

  show(bell) {
    const unread = bell.unreadCount;
    this.count.textContent = String(unread);
    this.count.dataset.unread = String(unread);
    this.button.setAttribute("aria-label", unread === 1 ? "Notifications, 1 unread" : `Notifications, ${unread} unread`);
    // Spoken only when it changes after the first reading: a page load is not news.
    if (this.unread !== null && unread !== this.unread) {
      this.spoken.textContent = unread === 1 ? "1 unread notification" : `${unread} unread notifications`;
    }
    this.unread = unread;
    this.markAllButton.disabled = unread === 0;
    this.list.replaceChildren(...(bell.newest.length
      ? bell.newest.map((notification) => this.item(notification))
      : [h("li", { class: "muted" }, "No notifications yet.")]));
  }

  item(notification) {
    const unread = !notification.readAt;
    const what = notification.case ? `${notification.case.number} · ${notificationKindLabel(notification.kind)}` : notificationKindLabel(notification.kind);
    return h("li", { class: ["notification", unread && "unread"], testid: "notification", "data-kind": notification.kind },
      h("button", {
        type: "button", class: "notification-open", disabled: !notification.case,
        onClick: () => this.open(notification),
      },
        unread ? h("span", { class: "visually-hidden" }, "Unread: ") : null,
        h("span", { class: "notification-text" }, notification.text),
        h("span", { class: "notification-meta muted" }, what, " · ", formatRelative(notification.createdAt)),
      ),
    );
  }

  async open(notification) {
    this.close();
    if (notification.case) this.onOpenCase(notification.case.id);
    if (notification.readAt) return;
    await this.markRead([notification.id]);
  }

  async markAllRead() {
    await this.markRead(null);
    this.button.focus();
  }

  async markRead(ids) {
    try {
      await this.api.request(MARK_READ, { ids });
      await this.load();
    } catch (error) {
      this.onError(error);
    }
  }

  toggle() {
    if (this.panel.hidden) this.openPanel();
    else this.close();
  }

  openPanel() {
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.panel.querySelector("button:not(:disabled)")?.focus();
  }

  close() {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
  }

  onKey(event) {
    if (event.key !== "Escape") return;
    this.close();
    this.button.focus();
  }
}
