// Local times for the activity page. The server writes every time in UTC
// inside <time datetime="…" title="… UTC" data-local>; this shows it in the
// browser's own zone with how long ago it was ("3 hours ago"), and keeps
// the UTC text as the hover title. Without the script the UTC text stays.
// Served from the gateway's static files; the page's CSP allows only
// 'self' scripts, no inline script and no eval.
(function () {
	"use strict";
	var units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
	var rel = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;

	function ago(seconds) {
		if (!rel) {
			return "";
		}
		for (var i = 0; i < units.length; i++) {
			if (Math.abs(seconds) >= units[i][1]) {
				return rel.format(-Math.round(seconds / units[i][1]), units[i][0]);
			}
		}
		return rel.format(0, "second");
	}

	var els = document.querySelectorAll("time[data-local]");
	for (var i = 0; i < els.length; i++) {
		var t = new Date(els[i].getAttribute("datetime"));
		if (isNaN(t.getTime())) {
			continue;
		}
		var local = t.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
		var since = ago((Date.now() - t.getTime()) / 1000);
		els[i].textContent = since ? local + " (" + since + ")" : local;
		els[i].setAttribute("data-shown", "local");
	}
})();
