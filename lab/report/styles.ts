/** Inline CSS shared by the run report and the runs index: light theme, system fonts, no web fonts. */
export const REPORT_CSS = `
:root {
  --text: #1f2630;
  --muted: #5b6472;
  --line: #dde2e9;
  --soft: #f5f7fa;
  --accent: #2f5d9e;
  --good: #1f7a3a;
  --good-bg: #e7f4ea;
  --bad: #b3261e;
  --bad-bg: #fbe9e7;
  --fault: rgba(209, 73, 91, 0.13);
  --fault-text: #9b2335;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  background: #fff;
  color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1480px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.9rem; line-height: 1.25; margin: 0.2em 0 0.4em; }
h2 {
  font-size: 1.3rem;
  margin: 2.2em 0 0.7em;
  padding-bottom: 0.25em;
  border-bottom: 1px solid var(--line);
}
h3 { font-size: 1.08rem; margin: 1.6em 0 0.5em; }
h4 { font-size: 0.98rem; margin: 0 0 0.4em; }
p { margin: 0.4em 0 0.8em; }
a { color: var(--accent); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
.muted { color: var(--muted); }
.nowrap { white-space: nowrap; }
.small { font-size: 0.88rem; }
.eyebrow { text-transform: uppercase; letter-spacing: 0.06em; font-size: 0.78rem; color: var(--muted); margin: 0; }

header.run { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 24px; align-items: start; }
blockquote.claim {
  margin: 0 0 1em;
  padding: 0.5em 1em;
  border-left: 4px solid var(--accent);
  background: var(--soft);
  font-size: 1.02rem;
}
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; font-size: 0.92rem; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; }
.verdict {
  min-width: 280px;
  padding: 18px 24px;
  border-radius: 10px;
  font-size: 1.6rem;
  font-weight: 700;
  line-height: 1.2;
  text-align: center;
}
.verdict .sub { display: block; font-size: 0.9rem; font-weight: 500; margin-top: 6px; }
.verdict.held { background: var(--good-bg); color: var(--good); border: 2px solid var(--good); }
.verdict.failed { background: var(--bad-bg); color: var(--bad); border: 2px solid var(--bad); }

.table-wrap { overflow-x: auto; margin: 0 0 1em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
table.compact { font-size: 0.84rem; }
table.compact th, table.compact td { padding: 4px 6px; }
table.compact thead th { white-space: normal; vertical-align: bottom; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { background: var(--soft); font-weight: 600; white-space: nowrap; border-bottom: 1px solid #c9d0da; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.failures { min-width: 7.5em; }
.held-yes { color: var(--good); font-weight: 600; white-space: nowrap; }
.held-no { color: var(--bad); font-weight: 600; white-space: nowrap; }
tr.claim-failed td { background: #fdf3f2 !important; }
.bad { color: var(--bad); font-weight: 600; }
.ok { color: var(--good); }
.tag {
  display: inline-block;
  padding: 0 7px;
  border-radius: 9px;
  background: var(--soft);
  border: 1px solid var(--line);
  font-size: 0.8rem;
  white-space: nowrap;
}

.timeline { margin: 0.6em 0 1.2em; }
.timeline .row { display: grid; grid-template-columns: 200px minmax(0, 1fr); align-items: center; gap: 12px; margin: 4px 0; }
.timeline .label { font-size: 0.85rem; color: var(--muted); text-align: right; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.timeline .track { position: relative; height: 26px; background: var(--soft); border-radius: 4px; }
.timeline .span {
  position: absolute;
  top: 2px;
  bottom: 2px;
  border-radius: 3px;
  font-size: 0.76rem;
  line-height: 22px;
  padding: 0 6px;
  overflow: hidden;
  white-space: nowrap;
  text-overflow: ellipsis;
}
.timeline .phase { background: #e3e9f2; border: 1px solid #c7d1e0; color: var(--text); }
.timeline .fault { background: var(--fault); border: 1px solid #e3a1ab; color: var(--fault-text); font-weight: 600; }
.timeline .axis { position: relative; height: 18px; font-size: 0.74rem; color: var(--muted); }
.timeline .axis span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
.timeline .axis span:last-child { transform: translateX(-100%); }

/* One grid item per deployment, so its tables and charts never interleave with another deployment's.
   The items of a grid row share its block rows (subgrid): the same table sits level in each. */
.deployments { display: grid; grid-template-columns: minmax(0, 1fr); gap: 16px 24px; }
.deployment {
  display: grid;
  grid-row: span var(--rows, 1);
  grid-template-rows: subgrid;
  align-content: start;
  min-width: 0;
}
.deployment > .block { min-width: 0; }
/* A bar above each deployment, and no side padding: the phase tables need every pixel of a half page. */
.deployment.card { padding-top: 10px; margin-bottom: 12px; border-top: 4px solid var(--accent); }
.deployment-head { margin: 0 0 4px; font-size: 1.05rem; }
.deployment h4 .tag { margin-left: 6px; font-weight: 500; }
.target { font-size: 0.82rem; color: var(--muted); margin: -2px 0 6px; }

figure.chart { margin: 0; min-width: 0; }
figure.chart figcaption { font-size: 0.88rem; font-weight: 600; margin: 0 0 2px; }
figure.chart figcaption .muted { font-weight: 400; }
.chart-scroll { overflow-x: auto; }
.chart-box { width: 100%; min-width: 600px; height: 300px; }
.chart-box.chart-problem, .chart-empty {
  display: flex;
  align-items: center;
  justify-content: center;
  min-height: 120px;
  background: var(--soft);
  color: var(--muted);
  border-radius: 6px;
  font-size: 0.9rem;
  padding: 12px;
}

ul.look li { margin: 0.35em 0; }
footer { margin-top: 3em; padding-top: 1em; border-top: 1px solid var(--line); color: var(--muted); font-size: 0.88rem; }
.notes { background: #fff8e6; border: 1px solid #f0d79a; border-radius: 6px; padding: 8px 14px; margin: 1em 0; }
.notes li { margin: 0.2em 0; }

/* Two deployments side by side only when both charts get their 600 px; more wrap as whole deployments. */
@media (min-width: 1320px) {
  .deployments { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
}
@media (max-width: 800px) {
  main { padding: 16px 12px 32px; }
  header.run { grid-template-columns: minmax(0, 1fr); }
  .verdict { min-width: 0; }
  .timeline .row { grid-template-columns: 90px minmax(0, 1fr); }
}
@media print {
  .chart-scroll { overflow: visible; }
  h2 { break-after: avoid; }
  figure.chart, table { break-inside: avoid; }
}
/* In the runs index: a verdict measured on a degraded run. */
.degraded-mark { color: #7a5200; font-size: 0.85rem; font-weight: 600; }
/* Validity: the banner, the observed fault timeline, load health (render-validity.ts, render-evidence.ts). */
.validity { margin: 14px 0 0; padding: 12px 16px; border-radius: 8px; border: 2px solid; }
.validity strong.head { display: block; font-size: 1.08rem; }
.validity ul { margin: 6px 0 0; padding-left: 1.2em; color: var(--text); font-size: 0.92rem; }
.validity li { margin: 0.2em 0; }
.validity .why { color: var(--text); font-size: 0.92rem; margin: 4px 0 0; }
.validity.invalid { background: var(--bad-bg); border-color: var(--bad); color: var(--bad); }
.validity.degraded { background: #fff8e6; border-color: #e0b84a; color: #7a5200; }
.validity.valid { background: var(--good-bg); border: 1px solid #b9dcc2; color: var(--good); padding: 6px 12px; font-size: 0.9rem; }
.verdict.invalid { background: var(--bad-bg); color: var(--bad); border: 2px dashed var(--bad); }
.verdict .degraded-note { display: block; font-size: 0.85rem; font-weight: 600; margin-top: 6px; color: #7a5200; }
.timeline .observed { background: #e7f4ea; border: 1px solid #8cc79b; color: var(--good); font-weight: 600; }
.timeline .missed {
  background: repeating-linear-gradient(45deg, var(--bad-bg), var(--bad-bg) 6px, #fff 6px, #fff 12px);
  border: 1px dashed var(--bad);
  color: var(--bad);
  font-weight: 700;
}
.timeline .label.observed-label { color: var(--good); }
tr.not-observed td { background: #fdf3f2 !important; }
tr.degraded-phase td { background: #fff8e6 !important; }
ul.degraded-reasons { color: #7a5200; margin: 0 0 1em; padding-left: 1.2em; }
ul.degraded-reasons li { margin: 0.2em 0; }
/* The topology diagram of a deployment (lab/diagram/): scales with its column, tooltips on hover. */
figure.topology { margin: 0 0 4px; }
figure.topology svg { display: block; width: 100%; height: auto; max-width: 780px; }
figure.topology figcaption { margin: 2px 0 0; }
figure.topology [data-fault] { cursor: help; }
.partial-note { background: var(--bad-bg); border: 1px solid var(--bad); color: var(--bad); border-radius: 6px; padding: 6px 10px; font-size: 0.88rem; }
`;
