// Inlined into reports/index.html by harness/report/html.py. Opens the cell named by #cell=<id>
// (the fragment is the expanded state, so links to one cell can be shared); a click on the open cell closes it.
(function () {
  function wanted() {
    var m = /(?:^#|&)cell=([^&]+)/.exec(location.hash);
    return m ? decodeURIComponent(m[1]) : null;
  }
  function show() {
    var id = wanted(), found = false;
    document.querySelectorAll('.detail').forEach(function (d) {
      var on = d.getAttribute('data-cell') === id;
      d.hidden = !on;
      found = found || on;
    });
    document.querySelectorAll('a.cell').forEach(function (a) {
      a.setAttribute('aria-expanded', a.getAttribute('data-cell') === id ? 'true' : 'false');
    });
    document.getElementById('hint').hidden = found;
  }
  document.querySelectorAll('a.cell').forEach(function (a) {
    a.addEventListener('click', function (ev) {
      if (a.getAttribute('data-cell') === wanted()) {
        ev.preventDefault();
        history.replaceState(null, '', location.pathname + location.search);
        show();
      }
    });
  });
  window.addEventListener('hashchange', show);
  document.documentElement.classList.add('js');
  show();
})();
