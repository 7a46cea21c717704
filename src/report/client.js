/*
 * Draws the report's charts in the browser with Observable Plot, whose UMD build (and d3's) the page
 * inlines before this script. The charts' data and labels are in the page's JSON (#report-data),
 * written by src/report/html.ts from src/report/model.ts: times are wall-clock text in the report's
 * zone, so they are drawn on UTC scales and show as written whatever the browser's own zone.
 *
 * Each datum is one mark (a rect, circle…) in a group of class `report-data`, which the browser tests
 * count.
 */
const { Plot, d3 } = globalThis;
const specs = JSON.parse(document.getElementById('report-data').textContent).charts;
const DAY_MS = 86_400_000;
/** The class of the group that holds a chart's data marks, one per datum. */
const DATA = 'report-data';

/** `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS` in the report's zone, placed on a UTC scale. */
const wall = (text) => new Date(text.length === 10 ? `${text}T00:00:00Z` : `${text}Z`);

function prepare(spec) {
  const times = [spec.x, spec.y].filter((channel) => channel.time).map((channel) => channel.field);
  if (spec.x.time && spec.x2) times.push(spec.x2);
  return spec.data.map((datum) => {
    const out = { ...datum };
    for (const field of times) out[field] = wall(datum[field]);
    return out;
  });
}

const named = (channel) =>
  channel.names ? (value) => channel.names[String(value)] ?? String(value) : undefined;
const shorten = (max) => (text) => (String(text).length > max ? `${String(text).slice(0, max - 1)}…` : text);

/**
 * A time axis, titled below its ticks (two lines: time and date). One instant alone gets a day
 * either side, so that it has an axis at all; a span of days is ticked in days, not hours.
 */
function timeScale(data, spec) {
  const times = data.flatMap((d) => [d[spec.x.field], spec.x2 ? d[spec.x2] : d[spec.x.field]]);
  const [low, high] = d3.extent(times);
  const alone = low && high && low.getTime() === high.getTime();
  const daily = spec.kind === 'daily-bars' && high - low < 14 * DAY_MS;
  return {
    type: 'utc',
    label: spec.x.label,
    labelAnchor: 'center',
    labelOffset: 42,
    ...(alone ? { domain: [new Date(low - DAY_MS), new Date(+high + DAY_MS)] } : {}),
    ...(daily ? { ticks: d3.utcDay } : {}),
  };
}

/** Room below a time axis for its two lines of ticks and its title. */
const TIME_AXIS_MARGIN = 50;

/** Room on the left for category names, at most two fifths of the width; longer names are cut. */
function categories(values, width) {
  const longest = d3.max(values, (value) => String(value).length) ?? 0;
  const room = Math.min(width * 0.4, 240);
  const left = Math.min(room, longest * 6.5 + 12);
  return { marginLeft: Math.max(40, left), tickFormat: shorten(Math.max(4, Math.floor((left - 12) / 6.5))) };
}

/** Whole-number ticks for a small range of counts (no half an event); d3's own otherwise. */
function wholeTicks(low, high) {
  if (!(high - low <= 6)) return undefined;
  return d3.range(Math.floor(low), Math.ceil(high) + 1);
}

/** A count axis from zero; at least 0 to 1, so that all zeros still have an axis. */
function countScale(label, max) {
  const high = Math.max(1, max ?? 0);
  return { label, grid: true, domain: [0, high], nice: true, ticks: wholeTicks(0, high), tickFormat: ',' };
}

/** A category axis, its title above it (a rotated one would run into the names). */
const categoryScale = (label, domain, tickFormat) => ({ label, labelAnchor: 'top', domain, tickFormat });

const colorOf = (spec) =>
  spec.color && {
    legend: true,
    label: spec.color.label,
    ...(spec.color.names ? { domain: Object.values(spec.color.names) } : {}),
  };

/** A sequential colour for counts, its legend ticked in whole numbers when they are few. */
const shades = (spec, data) => {
  const high = d3.max(data, (d) => d[spec.color.field]) ?? 1;
  return {
    type: 'linear',
    scheme: 'blues',
    domain: [0, high],
    legend: true,
    label: spec.color.label,
    ticks: wholeTicks(0, high),
    tickFormat: ',',
    // The legend's own margins, so that its first and last numbers are not cut.
    marginLeft: 12,
    marginRight: 12,
  };
};

const KINDS = {
  'daily-bars': (spec, data, width) => {
    const perDay = d3.rollup(
      data,
      (ds) => d3.sum(ds, (d) => d[spec.y.field]),
      (d) => +d[spec.x.field],
    );
    return {
      width,
      height: 260,
      marginLeft: 50,
      marginBottom: TIME_AXIS_MARGIN,
      x: timeScale(data, spec),
      y: countScale(spec.y.label, d3.max(perDay.values())),
      color: colorOf(spec),
      marks: [
        // No inset and a stroke of the bar's colour: a day stays visible however many share the width.
        Plot.rectY(data, {
          x: spec.x.field,
          interval: d3.utcDay,
          y: spec.y.field,
          fill: spec.color?.field ?? 'currentColor',
          stroke: spec.color?.field ?? 'currentColor',
          strokeWidth: 0.6,
          inset: 0,
          className: DATA,
          tip: true,
        }),
        Plot.ruleY([0]),
      ],
    };
  },
  heatmap: (spec, data, width) => {
    // On a narrow screen the weekdays become the columns and the hours the rows.
    const narrow = width < 560;
    const hours = { ...spec.x, domain: d3.range(24) };
    const days = { ...spec.y, domain: d3.range(1, 8) };
    const [across, down] = narrow ? [days, hours] : [hours, days];
    const cell = (width - 60) / across.domain.length;
    const rowHeight = narrow ? 16 : cell;
    return {
      width,
      height: Math.round(rowHeight * down.domain.length + 70),
      marginLeft: 50,
      marginTop: 24,
      marginBottom: 40,
      padding: 0.06,
      x: { type: 'band', domain: across.domain, label: across.label, tickFormat: named(across) },
      y: { type: 'band', ...categoryScale(down.label, down.domain, named(down)) },
      color: shades(spec, data),
      marks: [
        Plot.cell(data, {
          x: across.field,
          y: down.field,
          fill: spec.color.field,
          className: DATA,
          tip: true,
        }),
      ],
    };
  },
  'time-dots': (spec, data, width) => {
    const numeric = typeof spec.data[0][spec.y.field] === 'number';
    const names = numeric ? [] : [...new Set(data.map((d) => d[spec.y.field]))];
    const room = numeric ? { marginLeft: 50 } : categories(names, width);
    return {
      width,
      height: numeric ? 260 : Math.max(150, names.length * 30 + 70),
      marginLeft: room.marginLeft,
      marginBottom: TIME_AXIS_MARGIN,
      marginTop: 24,
      x: timeScale(data, spec),
      y: numeric
        ? countScale(
            spec.y.label,
            d3.max(data, (d) => d[spec.y.field]),
          )
        : categoryScale(spec.y.label, names, room.tickFormat),
      color: colorOf(spec),
      marks: [
        Plot.dot(data, {
          x: spec.x.field,
          y: spec.y.field,
          fill: spec.color?.field ?? 'currentColor',
          fillOpacity: 0.75,
          r: 3.5,
          className: DATA,
          tip: true,
        }),
      ],
    };
  },
  'ranked-bars': (spec, data, width) => {
    const names = data.map((d) => d[spec.y.field]);
    const room = categories(names, width);
    return {
      width,
      height: names.length * 24 + 70,
      marginLeft: room.marginLeft,
      marginTop: 24,
      x: countScale(
        spec.x.label,
        d3.max(data, (d) => d[spec.x.field]),
      ),
      y: categoryScale(spec.y.label, names, room.tickFormat),
      marks: [
        Plot.barX(data, { x: spec.x.field, y: spec.y.field, fill: '#3a6ea5', className: DATA, tip: true }),
        Plot.ruleX([0]),
      ],
    };
  },
  steps: (spec, data, width) => {
    const [low, high] = d3.extent(data, (d) => d[spec.y.field]);
    return {
      width,
      height: 220,
      marginLeft: 60,
      marginBottom: TIME_AXIS_MARGIN,
      x: timeScale(data, spec),
      y: { label: spec.y.label, grid: true, ticks: wholeTicks(low, high), tickFormat: ',' },
      marks: [
        Plot.line(data, { x: spec.x.field, y: spec.y.field, curve: 'step-after' }),
        Plot.dot(data, {
          x: spec.x.field,
          y: spec.y.field,
          fill: 'currentColor',
          r: 3.5,
          className: DATA,
          tip: true,
        }),
      ],
    };
  },
  'span-cells': (spec, data, width) => {
    const names = [...new Set(data.map((d) => d[spec.y.field]))];
    const room = categories(names, width);
    return {
      width,
      height: names.length * 28 + 80,
      marginLeft: room.marginLeft,
      marginBottom: TIME_AXIS_MARGIN,
      marginTop: 24,
      x: timeScale(data, spec),
      y: categoryScale(spec.y.label, names, room.tickFormat),
      color: shades(spec, data),
      marks: [
        Plot.barX(data, {
          x1: spec.x.field,
          x2: spec.x2,
          y: spec.y.field,
          fill: spec.color.field,
          className: DATA,
          tip: true,
        }),
      ],
    };
  },
};

const drawnWidth = new Map();

function draw(spec) {
  const figure = document.getElementById(spec.id);
  const target = figure?.querySelector('.plot');
  if (!target) throw new Error(`The page has no figure for chart ${spec.id}.`);
  const width = Math.max(280, Math.floor(target.clientWidth));
  if (drawnWidth.get(spec.id) === width) return;
  drawnWidth.set(spec.id, width);
  target.replaceChildren(Plot.plot(KINDS[spec.kind](spec, prepare(spec), width)));
}

function drawAll() {
  let drawn = 0;
  for (const spec of specs) {
    try {
      draw(spec);
      drawn += 1;
    } catch (error) {
      console.error(`Chart ${spec.id} could not be drawn:`, error);
      const target = document.getElementById(spec.id)?.querySelector('.plot');
      if (target) target.textContent = `This chart could not be drawn: ${error.message}`;
    }
  }
  return drawn;
}

document.documentElement.dataset.chartsDrawn = String(drawAll());
let pending;
window.addEventListener('resize', () => {
  clearTimeout(pending);
  pending = setTimeout(drawAll, 150);
});
