// Self-check for the browser test: records script errors and whether every chart has a drawn,
// visible SVG, as attributes on <body> (read back from Chromium's --dump-dom).
(function () {
  var body = document.body, errors = [];
  function record(text) {
    errors.push(text);
    body.setAttribute('data-errors', errors.join(' | '));
  }
  window.addEventListener('error', function (e) { record(String(e.message || e.type)); });
  var consoleError = console.error;
  console.error = function () {
    record('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return consoleError.apply(console, arguments);
  };
  function check() {
    var ok = [], bad = [];
    var figures = document.querySelectorAll('figure.chart');
    for (var i = 0; i < figures.length; i++) {
      var f = figures[i], svg = f.querySelector('svg');
      var drawn = svg ? svg.querySelectorAll('rect, circle, polyline, polygon, path, line, text').length : 0;
      var box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
      (drawn > 5 && box.width > 0 && box.height > 0 ? ok : bad).push(f.getAttribute('data-chart'));
    }
    body.setAttribute('data-charts-ok', String(ok.length));
    body.setAttribute('data-charts-bad', bad.join(' '));
    body.setAttribute('data-checked', '1');
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', check); else check();
})();
