// Small SVG charts for the dashboards: bar charts (grouped when there are several series) and
// line charts, each with a title, axes, value labels and an accessible <title>/<desc>, so a
// screen reader gets the numbers too. No dependencies; styling lives in lib/style.css (.chart).
//
//   barChart({ testid, title, categories: ["NEW", "OPEN"], series: [{ name: "Open", values: [4, 2] }],
//              format: (v) => `${v}`, yMax: 100 })
//   lineChart({ testid, title, labels: ["Nov 1", ...], series: [{ name: "Open", values: [...] }] })
//
// Both return a <figure class="chart">; values may be null (drawn as a gap / no bar).

import { h, s } from "./dom.js";

const WIDTH = 560;
const HEIGHT = 260;
const MARGIN = { top: 32, right: 16, bottom: 44, left: 48 };
const PALETTE = ["#1d4f91", "#c0661b", "#1f6f3f", "#7a3e9d", "#a8201a"];

let uid = 0;

/** A rounded-up axis maximum with 4 ticks at human-friendly steps. */
export function niceScale(maxValue, ticks = 4) {
  if (!(maxValue > 0)) return { max: 1, step: 0.25, ticks: [0, 0.25, 0.5, 0.75, 1] };
  const rough = maxValue / ticks;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough);
  const max = step * Math.ceil(maxValue / step);
  const values = [];
  for (let v = 0; v <= max + step / 2; v += step) values.push(Number(v.toPrecision(12)));
  return { max, step, ticks: values };
}

/** The svg with title, description and legend; `box` is where the plot goes. */
function frame({ testid, title, description, legend, tilted = false }) {
  const id = `chart-${++uid}`;
  const box = { ...MARGIN, top: legend.length > 1 ? 50 : MARGIN.top, bottom: tilted ? 70 : MARGIN.bottom };
  const svg = s("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc`,
    preserveAspectRatio: "xMidYMid meet",
  });
  svg.append(
    s("title", { id: `${id}-title` }, title),
    s("desc", { id: `${id}-desc` }, description),
    s("text", { class: "chart-title", x: 8, y: 18 }, title),
  );
  if (legend.length > 1) {
    let x = MARGIN.left;
    legend.forEach((label, i) => {
      svg.append(
        s("rect", { x, y: 27, width: 10, height: 10, fill: PALETTE[i % PALETTE.length] }),
        s("text", { class: "legend", x: x + 14, y: 36 }, label),
      );
      x += 24 + label.length * 6.2;
    });
  }
  const figure = h("figure", { class: "chart", testid }, svg);
  return { svg, figure, box };
}

function yAxis(svg, box, scale, format, yLabel) {
  const plotHeight = HEIGHT - box.top - box.bottom;
  for (const tick of scale.ticks) {
    const y = box.top + plotHeight - (tick / scale.max) * plotHeight;
    svg.append(
      s("line", { class: "grid", x1: box.left, x2: WIDTH - box.right, y1: y, y2: y }),
      s("text", { class: "tick", x: box.left - 6, y: y + 4, "text-anchor": "end" }, format(tick)),
    );
  }
  svg.append(s("line", {
    class: "axis", x1: box.left, x2: WIDTH - box.right, y1: HEIGHT - box.bottom, y2: HEIGHT - box.bottom,
  }));
  if (yLabel) {
    const cy = box.top + plotHeight / 2;
    svg.append(s("text", { class: "axis-label", x: 12, y: cy, transform: `rotate(-90 12 ${cy})`, "text-anchor": "middle" }, yLabel));
  }
}

function describe(categories, series, format) {
  return categories
    .map((category, i) => `${category}: ${series.map((one) => `${series.length > 1 ? `${one.name} ` : ""}${one.values[i] == null ? "no data" : format(one.values[i])}`).join(", ")}`)
    .join("; ");
}

/** Category labels that fit: shortened, and tilted when there are many. */
function categoryLabel(svg, box, text, x, many) {
  const label = text.length > 18 ? `${text.slice(0, 17)}…` : text;
  const y = HEIGHT - box.bottom + 14;
  svg.append(many
    ? s("text", { class: "tick", x, y, "text-anchor": "end", transform: `rotate(-30 ${x} ${y})` }, s("title", {}, text), label)
    : s("text", { class: "tick", x, y, "text-anchor": "middle" }, s("title", {}, text), label));
}

export function barChart({ testid, title, categories, series, format = String, yLabel = "", yMax = null, empty = "No data yet." }) {
  const values = series.flatMap((one) => one.values).filter((v) => v != null);
  const many = categories.length > 5 || categories.some((c) => c.length > 12);
  const { svg, figure, box } = frame({
    testid, title, legend: series.map((one) => one.name), tilted: many,
    description: values.length ? describe(categories, series, format) : empty,
  });
  if (!categories.length || !values.length) {
    svg.append(s("text", { class: "no-data", x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle" }, empty));
    return figure;
  }
  const scale = niceScale(yMax ?? Math.max(...values));
  yAxis(svg, box, scale, format, yLabel);
  const plotWidth = WIDTH - box.left - box.right;
  const plotHeight = HEIGHT - box.top - box.bottom;
  const band = plotWidth / categories.length;
  const barWidth = Math.min(48, (band * 0.72) / series.length);
  categories.forEach((category, i) => {
    const groupStart = box.left + band * i + (band - barWidth * series.length) / 2;
    series.forEach((one, j) => {
      const value = one.values[i];
      if (value == null) return;
      const barHeight = (value / scale.max) * plotHeight;
      const x = groupStart + j * barWidth;
      const y = box.top + plotHeight - barHeight;
      svg.append(
        s("rect", {
          class: "bar", x, y, width: Math.max(1, barWidth - 2), height: Math.max(0, barHeight),
          fill: PALETTE[j % PALETTE.length], "data-category": category, "data-series": one.name, "data-value": value,
        }, s("title", {}, `${category}${series.length > 1 ? ` — ${one.name}` : ""}: ${format(value)}`)),
        s("text", { class: "value-label", x: x + (barWidth - 2) / 2, y: y - 4, "text-anchor": "middle" }, format(value)),
      );
    });
    categoryLabel(svg, box, category, box.left + band * i + band / 2, many);
  });
  return figure;
}

export function lineChart({ testid, title, labels, series, format = String, yLabel = "", empty = "No data yet." }) {
  const values = series.flatMap((one) => one.values).filter((v) => v != null);
  const { svg, figure, box } = frame({
    testid, title, legend: series.map((one) => one.name),
    description: values.length ? describe(labels, series, format) : empty,
  });
  if (labels.length < 1 || !values.length) {
    svg.append(s("text", { class: "no-data", x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle" }, empty));
    return figure;
  }
  const scale = niceScale(Math.max(...values));
  yAxis(svg, box, scale, format, yLabel);
  const plotWidth = WIDTH - box.left - box.right;
  const plotHeight = HEIGHT - box.top - box.bottom;
  const step = labels.length > 1 ? plotWidth / (labels.length - 1) : 0;
  const xOf = (i) => box.left + (labels.length > 1 ? step * i : plotWidth / 2);
  const yOf = (v) => box.top + plotHeight - (v / scale.max) * plotHeight;
  // At most ~8 x labels, evenly spaced, always the last one.
  const every = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((label, i) => {
    if (i % every === 0 || i === labels.length - 1) {
      if (i !== labels.length - 1 && labels.length - 1 - i < every / 2) return;
      const anchor = i === 0 && labels.length > 1 ? "start" : i === labels.length - 1 && labels.length > 1 ? "end" : "middle";
      svg.append(s("text", { class: "tick", x: xOf(i), y: HEIGHT - box.bottom + 14, "text-anchor": anchor }, label));
    }
  });
  series.forEach((one, j) => {
    const color = PALETTE[j % PALETTE.length];
    let path = "";
    let pen = false;
    one.values.forEach((value, i) => {
      if (value == null) { pen = false; return; }
      path += `${pen ? "L" : "M"}${xOf(i).toFixed(1)},${yOf(value).toFixed(1)} `;
      pen = true;
    });
    svg.append(s("path", { class: "line", d: path.trim(), stroke: color, "data-series": one.name }));
    one.values.forEach((value, i) => {
      if (value == null) return;
      svg.append(s("circle", { class: "dot", cx: xOf(i), cy: yOf(value), r: labels.length > 40 ? 1.5 : 2.5, fill: color },
        s("title", {}, `${labels[i]} — ${one.name}: ${format(value)}`)));
    });
  });
  return figure;
}
