/**
 * The browser side of drawing a page's ECharts charts as they scroll into view, shared by the runs index
 * and the exemplar waterfalls: a function's source to inline in a page script, then call as
 * `drawChartsLazily(specs, { rootMargin, counter, what, prepare })`. Each spec is `{ id, option }`;
 * `prepare(option, spec)` adds what JSON cannot carry (formatters); `counter` names the
 * `document.documentElement.dataset` entry that counts the charts drawn (tests read it). Printing draws
 * them all; a resize resizes them once per frame.
 */
export const LAZY_CHARTS_FUNCTION = String.raw`
function drawChartsLazily(specs, options) {
  var root = document.documentElement;
  var charts = [];
  var drawn = 0;
  function draw(spec) {
    var element = spec && document.getElementById(spec.id);
    if (!element || element.getAttribute('data-drawn')) return;
    element.setAttribute('data-drawn', 'true');
    var option = spec.option;
    options.prepare(option, spec);
    try {
      var chart = echarts.init(element, null, { renderer: 'canvas' });
      chart.setOption(option);
      charts.push(chart);
      drawn += 1;
      root.dataset[options.counter] = String(drawn);
    } catch (error) {
      element.classList.add('chart-problem');
      element.textContent = 'This ' + options.what + ' could not be drawn: ' + error;
    }
  }
  function drawAll() { specs.forEach(draw); }
  if ('IntersectionObserver' in window) {
    var byId = {};
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        observer.unobserve(entry.target);
        draw(byId[entry.target.id]);
      });
    }, { rootMargin: options.rootMargin });
    specs.forEach(function (spec) {
      var element = document.getElementById(spec.id);
      byId[spec.id] = spec;
      if (element) observer.observe(element);
    });
  } else {
    drawAll();
  }
  window.addEventListener('beforeprint', function () {
    drawAll();
    charts.forEach(function (chart) { chart.resize(); });
  });
  var pending = 0;
  window.addEventListener('resize', function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  });
}
`;
