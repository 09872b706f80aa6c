/**
 * The only code the report runs in the browser: draw the charts whose options the renderer computed.
 * It stays small on purpose; option functions (formatters) are the one thing JSON cannot carry, so they
 * are attached here, chosen by each chart's `unit`.
 */
export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var specsElement = document.getElementById('splitlab-charts');
  if (!specsElement) return;
  var specs = JSON.parse(specsElement.textContent || '[]');

  function showProblem(text) {
    specs.forEach(function (spec) {
      var element = document.getElementById(spec.id);
      if (element) {
        element.classList.add('chart-problem');
        element.textContent = text;
      }
    });
  }
  if (typeof echarts === 'undefined') {
    showProblem('The chart library did not load; the tables above hold the same numbers.');
    return;
  }

  function formatMs(value) {
    if (value === null || value === undefined || value === '-' || isNaN(value)) return '—';
    var v = Number(value);
    if (v >= 1000) return (Math.round(v / 10) / 100) + ' s';
    if (v >= 10) return Math.round(v) + ' ms';
    if (v >= 1) return (Math.round(v * 10) / 10) + ' ms';
    return (Math.round(v * 100) / 100) + ' ms';
  }
  function formatCount(value) {
    if (value === null || value === undefined || value === '-' || isNaN(value)) return '—';
    return String(Math.round(Number(value) * 100) / 100);
  }
  function secondOf(params) {
    return 'second ' + Math.floor(Number(params.value)) + '–' + (Math.floor(Number(params.value)) + 1);
  }

  var charts = [];
  specs.forEach(function (spec) {
    var element = document.getElementById(spec.id);
    if (!element) return;
    var option = spec.option;
    option.xAxis.axisPointer = { label: { formatter: secondOf } };
    if (spec.unit === 'ms') {
      option.yAxis.axisLabel.formatter = formatMs;
      option.tooltip.valueFormatter = formatMs;
    } else {
      option.tooltip.valueFormatter = formatCount;
    }
    try {
      var chart = echarts.init(element, null, { renderer: 'canvas' });
      chart.setOption(option);
      charts.push(chart);
    } catch (error) {
      element.classList.add('chart-problem');
      element.textContent = 'This chart could not be drawn: ' + error;
    }
  });

  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  });
  document.documentElement.dataset.chartsReady = String(charts.length);
})();
`;
