// How the dashboard words and formats what the server sends: dates, durations, sizes. Enum values
// are worded by the one label table the portal shares (lib/labels.js), re-exported here.

export {
  actionLabel, channelLabel, eventTypeLabel, label, priorityLabel, resolutionLabel, stageLabel, statusLabel,
} from "../lib/labels.js";

export const OPEN_STATUSES = [
  "NEW", "OPEN", "AWAITING_INFO", "INSPECTION_IN_PROGRESS", "WORK_IN_PROGRESS",
  "WORK_ASSIGNMENT_IN_PROGRESS", "READY_FOR_DECISION", "RESOLVED",
];
export const ALL_STATUSES = [...OPEN_STATUSES, "CLOSED", "CANCELLED"];

/** "resolutionCode" → "Resolution code": a name of the API's (a details key) in words. */
export function humanize(value) {
  if (!value) return "";
  const text = String(value).toLowerCase().replace(/_/g, " ").replace(/\bsla\b/g, "SLA");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A JSON value from an event's details as short text. */
export function formatValue(value) {
  if (Array.isArray(value)) return value.map(formatValue).join(", ");
  if (typeof value === "string" && ISO_TIME.test(value)) return formatDateTime(value);
  if (value && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const shortDate = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

export function formatDateTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : dateTime.format(date);
}

export function formatShortDate(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : shortDate.format(date);
}

/** "3 h 20 min", "2 d 4 h", "45 s" — at most two units. */
export function formatDuration(seconds) {
  if (seconds == null || Number.isNaN(seconds)) return "—";
  let rest = Math.round(Math.abs(seconds));
  const units = [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]];
  const parts = [];
  for (const [name, size] of units) {
    if (rest >= size || (name === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)} ${name}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** "5 min ago", "in 2 h" relative to now: one unit is enough at a glance. */
export function formatRelative(iso, now = Date.now()) {
  const delta = (new Date(iso).getTime() - now) / 1000;
  if (Math.abs(delta) < 45) return "just now";
  const text = formatDuration(Math.abs(delta)).split(" ").slice(0, 2).join(" ");
  return delta < 0 ? `${text} ago` : `in ${text}`;
}

export function personName(user) {
  return user ? user.name || user.id : "";
}

/** A file's size for people: 812 B, 14.2 kB, 3.1 MB. */
export function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1000 * 1000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / (1000 * 1000)).toFixed(1)} MB`;
}
