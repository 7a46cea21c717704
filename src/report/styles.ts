/** The report's style sheet, inlined into the page: readable from a 375 px phone to a desktop. */
export const STYLES = `
:root { color-scheme: light; --ink: #1d232b; --muted: #5b6572; --line: #d8dde3; --accent: #3a6ea5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 16px; }
header { padding-top: 20px; }
h1 { font-size: 1.5rem; margin: 0 0 4px; }
h2 { font-size: 1.3rem; margin: 32px 0 4px; padding-top: 12px; border-top: 3px solid var(--accent); }
h3 { font-size: 1.1rem; margin: 28px 0 4px; }
p { margin: 6px 0; }
.muted, .intro, figcaption, p.caption { color: var(--muted); }
nav { max-width: 1100px; margin: 12px auto; padding: 0 16px; }
nav ul { list-style: none; margin: 4px 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav a { color: var(--accent); }
nav strong { display: block; margin-top: 6px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.92em; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; margin: 10px 0; }
dl.facts div { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
dl.facts dt { font-size: 0.8rem; color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
figure.chart { margin: 14px 0 22px; }
figure.chart .plot { width: 100%; min-height: 60px; overflow: hidden; }
figure.chart .plot figure { margin: 0; }
figure.chart svg { max-width: 100%; height: auto; }
p.empty { border: 1px dashed var(--line); border-radius: 6px; padding: 12px; color: var(--muted); background: #f7f8fa; }
.table { overflow-x: auto; margin: 4px 0 22px; }
table { border-collapse: collapse; min-width: 100%; font-size: 0.88rem; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
td { overflow-wrap: break-word; max-width: 28em; }
td.time { white-space: nowrap; }
th.number, td.number { text-align: right; font-variant-numeric: tabular-nums; }
footer { margin-top: 40px; padding-bottom: 30px; color: var(--muted); font-size: 0.85rem; }
@media (max-width: 600px) { body { font-size: 14px; } h2 { margin-top: 24px; } }
`;
