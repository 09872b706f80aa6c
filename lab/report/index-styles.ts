/** Inline CSS of the runs index beyond the shared report CSS: the verdict strips, trend charts and compare box. */
export const INDEX_CSS = `
#trends h3 { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; margin: 1.8em 0 0.4em; }
#trends h3 .trend-title { font-weight: 500; font-size: 0.95rem; color: var(--muted); }
.verdict-strip { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 12px; margin: 0 0 8px; }
ol.run-marks { display: flex; flex-wrap: wrap; gap: 3px; margin: 0; padding: 0; list-style: none; }
a.run-mark {
  display: inline-flex;
  flex-direction: column;
  align-items: center;
  width: 22px;
  padding: 1px 0 0;
  border-radius: 4px;
  border: 1px solid;
  text-decoration: none;
  line-height: 1.1;
}
a.run-mark .symbol { font-size: 0.9rem; font-weight: 700; }
a.run-mark .runtime { font-size: 0.62rem; opacity: 0.8; }
a.run-mark.held { background: var(--good-bg); border-color: #8cc79b; color: var(--good); }
a.run-mark.failed { background: var(--bad-bg); border-color: #e3a1ab; color: var(--bad); }
a.run-mark.invalid { background: #fff; border: 1px dashed var(--muted); color: var(--muted); }
a.run-mark.degraded { box-shadow: inset 0 -3px 0 #e0b84a; }
a.run-mark:hover, a.run-mark:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
.trend-charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 10px 18px; }
figure.trend-chart { margin: 0; min-width: 0; }
figure.trend-chart figcaption { font-size: 0.82rem; line-height: 1.3; }
figure.trend-chart figcaption .muted, figure.trend-chart figcaption .claim-text { display: block; }
figure.trend-chart figcaption .claim-text { color: var(--text); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.trend-box { width: 100%; height: 170px; }
.trend-box.chart-problem {
  display: flex;
  align-items: center;
  justify-content: center;
  background: var(--soft);
  color: var(--muted);
  border-radius: 6px;
  font-size: 0.85rem;
  padding: 8px;
}
th.pick, td.pick { width: 1.8em; text-align: center; padding-left: 2px; padding-right: 2px; }
td.pick input { margin: 0; cursor: pointer; }
.compare-box {
  position: sticky;
  bottom: 0;
  z-index: 2;
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 6px 10px;
  margin: 0.6em 0;
  padding: 8px 12px;
  background: #fff;
  border: 1px solid var(--line);
  border-left: 4px solid var(--accent);
  border-radius: 6px;
  box-shadow: 0 -2px 8px rgba(31, 38, 48, 0.08);
  font-size: 0.9rem;
}
.compare-box code { padding: 2px 6px; background: var(--soft); border-radius: 4px; user-select: all; word-break: break-all; }
.compare-box button { font: inherit; padding: 2px 10px; cursor: pointer; }
.compare-box .compare-note { color: var(--bad); }
@media print {
  .compare-box, th.pick, td.pick { display: none; }
}
`;
