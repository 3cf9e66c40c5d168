// Desk analytics as SVG charts (lib/charts.js): open cases by status, the backlog over time,
// response and resolution times, SLA compliance and satisfaction — one query per refresh — and,
// below them, the reopen rate, the workload per agent and self-service deflection (requests the
// public did not file after reading a knowledge article in the portal).

import { h, clear } from "../lib/dom.js";
import { barChart, lineChart } from "../lib/charts.js";
import { ANALYTICS_QUERY } from "./queries.js";
import { OPEN_STATUSES, formatShortDate, personName, statusLabel } from "./format.js";

const RANGES = [
  { value: "7", label: "Last 7 days", days: 7, interval: "DAY" },
  { value: "30", label: "Last 30 days", days: 30, interval: "DAY" },
  { value: "90", label: "Last 13 weeks", days: 91, interval: "WEEK" },
];
const AUTO_REFRESH_DELAY = 3000; // ms after live events: one quiet refresh for a burst

export class AnalyticsView {
  constructor({ api, onError }) {
    this.api = api;
    this.onError = onError;
    this.seq = 0;
    this.range = h("select", { id: "analytics-range", testid: "analytics-range", onChange: () => this.load() },
      RANGES.map((range) => h("option", { value: range.value, selected: range.value === "30" }, range.label)));
    this.group = h("select", { id: "analytics-group", testid: "analytics-group", onChange: () => this.load() },
      h("option", { value: "" }, "All my groups"));
    this.refreshButton = h("button", { type: "button", testid: "analytics-refresh", onClick: () => this.load() }, "Refresh");
    this.status = h("p", { class: "muted", role: "status", testid: "analytics-status" });
    this.charts = h("div", { class: "chart-grid" });
    this.extra = h("div", { class: "analytics-extra" });
    this.element = h("section", { class: "panel analytics-panel", testid: "analytics", "aria-labelledby": "analytics-heading" },
      h("div", { class: "panel-heading" },
        h("h2", { id: "analytics-heading" }, "Analytics"),
        h("div", { class: "analytics-controls" },
          h("label", { for: "analytics-range", class: "inline" }, "Period"), this.range,
          h("label", { for: "analytics-group", class: "inline" }, "Group"), this.group,
          this.refreshButton)),
      this.status, this.charts, this.extra);
  }

  setGroups(groups) {
    if (this.groupsSet) return;
    this.groupsSet = true;
    for (const group of groups) this.group.append(h("option", { value: group.code }, group.name));
    this.group.disabled = groups.length === 0;
  }

  /** Live events changed the numbers: refresh once the burst has settled. */
  changed() {
    window.clearTimeout(this.autoTimer);
    this.autoTimer = window.setTimeout(() => this.load({ quiet: true }), AUTO_REFRESH_DELAY);
  }

  async load({ quiet = false } = {}) {
    const seq = ++this.seq;
    const range = RANGES.find((r) => r.value === this.range.value) ?? RANGES[1];
    const now = new Date();
    const from = new Date(now.getTime() - range.days * 86400000);
    const filter = { from: from.toISOString(), to: now.toISOString() };
    if (this.group.value) filter.groupCodes = [this.group.value];
    this.refreshButton.disabled = true;
    if (!quiet) this.status.textContent = "Loading…";
    this.element.setAttribute("aria-busy", "true");
    try {
      const data = await this.api.request(ANALYTICS_QUERY, { filter, interval: range.interval });
      if (seq !== this.seq) return;
      if (!data.analytics) {
        this.status.textContent = "Analytics are not available to you.";
        clear(this.charts);
        return;
      }
      this.render(data.analytics, range);
      this.status.textContent = `As of ${now.toLocaleTimeString()}.`;
    } catch (error) {
      if (seq === this.seq) {
        this.status.textContent = "Could not load the analytics.";
        if (!quiet) this.onError(error);
      }
    } finally {
      if (seq === this.seq) {
        this.refreshButton.disabled = false;
        this.element.removeAttribute("aria-busy");
      }
    }
  }

  render(a, range) {
    const byStatus = new Map(a.openCases.map((row) => [row.status, row.count]));
    const statuses = OPEN_STATUSES.filter((status) => status !== "RESOLVED" && byStatus.has(status));
    const hours = (seconds) => (seconds == null ? null : seconds / 3600);
    const hoursText = (v) => (v >= 10 ? `${Math.round(v)} h` : `${Math.round(v * 10) / 10} h`);
    const durations = [a.firstResponseTime, a.resolutionTime];

    // SLA compliance per case type and timer kind, summed over priorities.
    const sla = new Map();
    for (const row of a.slaCompliance) {
      const name = row.caseType?.name ?? "Other";
      const entry = sla.get(name) ?? { RESPONSE: { met: 0, breached: 0 }, RESOLUTION: { met: 0, breached: 0 } };
      entry[row.kind].met += row.met;
      entry[row.kind].breached += row.breached;
      sla.set(name, entry);
    }
    const rate = (counts) => (counts.met + counts.breached ? (100 * counts.met) / (counts.met + counts.breached) : null);
    const slaNames = [...sla.keys()].sort();
    const satisfaction = [...a.satisfaction.distribution].sort((x, y) => x.rating - y.rating);

    this.charts.replaceChildren(
      barChart({
        testid: "chart-open-by-status", title: "Open cases by status",
        categories: statuses.map(statusLabel),
        series: [{ name: "Open cases", values: statuses.map((status) => byStatus.get(status)) }],
        empty: "No open cases.",
      }),
      lineChart({
        testid: "chart-backlog", title: `Backlog per ${range.interval === "DAY" ? "day" : "week"}`,
        labels: a.backlog.map((bucket) => formatShortDate(bucket.start)),
        series: [
          { name: "Open at end", values: a.backlog.map((b) => b.openAtEnd) },
          { name: "Opened", values: a.backlog.map((b) => b.opened) },
          { name: "Resolved", values: a.backlog.map((b) => b.resolved) },
        ],
      }),
      barChart({
        testid: "chart-resolution-time", title: "First response and resolution time (hours)",
        categories: ["Mean", "Median", "90th pct", "95th pct"],
        series: [
          { name: `First response (${a.firstResponseTime.count})`, values: ["meanSeconds", "p50Seconds", "p90Seconds", "p95Seconds"].map((k) => hours(durations[0][k])) },
          { name: `Resolution (${a.resolutionTime.count})`, values: ["meanSeconds", "p50Seconds", "p90Seconds", "p95Seconds"].map((k) => hours(durations[1][k])) },
        ],
        format: hoursText, empty: "No case responded to or resolved in this period.",
      }),
      barChart({
        testid: "chart-sla-compliance", title: "SLA compliance (% met)",
        categories: slaNames,
        series: [
          { name: "Response", values: slaNames.map((name) => rate(sla.get(name).RESPONSE)) },
          { name: "Resolution", values: slaNames.map((name) => rate(sla.get(name).RESOLUTION)) },
        ],
        format: (v) => `${Math.round(v)}%`, yMax: 100, empty: "No SLA timer met or breached in this period.",
      }),
      barChart({
        testid: "chart-satisfaction",
        title: a.satisfaction.count
          ? `Satisfaction: ${a.satisfaction.averageRating.toFixed(1)} / 5 from ${a.satisfaction.count} survey${a.satisfaction.count === 1 ? "" : "s"}`
          : "Satisfaction",
        categories: satisfaction.map((r) => `${r.rating} ★`),
        series: [{ name: "Surveys", values: satisfaction.map((r) => r.count) }],
        empty: "No survey in this period.",
      }),
    );

    const reopen = a.reopenRate;
    clear(this.extra).append(
      h("p", { testid: "reopen-rate" }, h("strong", {}, "Reopen rate: "),
        reopen.rate == null ? "no case resolved in this period." : `${Math.round(reopen.rate * 100)}% (${reopen.reopenedCases} of ${reopen.resolvedCases} resolved cases)`),
      h("table", { class: "workload", testid: "agent-workload" },
        h("caption", {}, "Workload per agent"),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Agent"), h("th", { scope: "col" }, "Open"), h("th", { scope: "col" }, "Resolved"),
          h("th", { scope: "col" }, "Mean resolution"), h("th", { scope: "col" }, "Rating"))),
        h("tbody", {}, a.agentWorkload.map((w) => h("tr", {},
          h("td", {}, personName(w.agent) || "—"),
          h("td", {}, String(w.openCases)),
          h("td", {}, String(w.resolvedCases)),
          h("td", {}, w.meanResolutionSeconds == null ? "—" : hoursText(w.meanResolutionSeconds / 3600)),
          h("td", {}, w.averageRating == null ? "—" : `${w.averageRating.toFixed(1)} (${w.surveyCount})`))))),
      this.deflection(a.deflection));
  }

  /** Requests not filed after reading an article in the portal, and the articles that helped most. */
  deflection(d) {
    const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
    const summary = d.deflectionRate == null
      ? "no request was written after reading an article in this period."
      : `${plural(d.deflectedRequests, "request", "requests")} not filed after reading an article, `
        + `${d.filedAfterReading} filed anyway (${Math.round(d.deflectionRate * 100)}% deflected).`;
    return h("section", { class: "deflection", testid: "deflection", "data-deflected": d.deflectedRequests,
      "data-filed": d.filedAfterReading },
    h("p", {}, h("strong", {}, "Self-service: "), summary),
    d.topArticles.length
      ? h("table", { class: "workload", testid: "deflecting-articles" },
        h("caption", {}, "Articles that answered the most requests"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Article"), h("th", { scope: "col" }, "Requests not filed"))),
        h("tbody", {}, d.topArticles.map((row) => h("tr", { "data-article-id": row.article.id },
          h("td", {}, row.article.title), h("td", {}, String(row.deflectedRequests))))))
      : null);
  }
}
