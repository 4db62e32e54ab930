/* andon.js - console script: reports the service health on the page. */
'use strict';
(function () {
	var out = document.getElementById('health');
	if (!out) return;
	fetch('/healthz', { cache: 'no-store' }).then(function (r) {
		return r.json().then(function (body) {
			out.textContent = r.ok ? (body.status || 'ok') : 'unavailable (' + r.status + ')';
		});
	}).catch(function () { out.textContent = 'unreachable'; });
})();
