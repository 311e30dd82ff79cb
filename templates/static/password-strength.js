// Password strength meter for the change-password form. As the person
// types a new password it asks the gateway, which applies the very policy
// the change will (POST <prefix>/api/v1/me/password/check), and shows
// "Strength: weak" with the reason, or "Strength: strong". The form works
// without this script: the server checks the password on submit anyway.
// Served from the gateway's static files; the page's CSP allows only
// 'self' scripts there, no inline script and no eval.
(function () {
	"use strict";
	var input = document.querySelector("input[data-strength-url]");
	if (!input || !window.fetch) {
		return;
	}
	var out = document.getElementById(input.getAttribute("data-strength-output"));
	var url = input.getAttribute("data-strength-url");
	var timer = 0;
	var latest = 0;

	function show(strength, reason) {
		out.removeAttribute("data-checking");
		out.hidden = false;
		out.className = "strength " + strength;
		out.textContent = strength === "strong" ? "Strength: strong" : "Strength: weak. " + reason;
	}

	function check() {
		var value = input.value;
		var asked = ++latest;
		fetch(url, {
			method: "POST",
			credentials: "same-origin",
			headers: { "Content-Type": "application/json", "Accept": "application/json" },
			body: JSON.stringify({ new_password: value })
		}).then(function (resp) {
			return resp.ok ? resp.json() : null;
		}).then(function (res) {
			// Answers can arrive out of order; only the last question counts.
			if (asked !== latest || input.value !== value) {
				return;
			}
			if (res) {
				show(res.strength, res.reason || "");
			} else {
				out.hidden = true;
				out.removeAttribute("data-checking");
			}
		}).catch(function () {
			// No answer: say nothing rather than guess; the server decides on submit.
			if (asked === latest) {
				out.hidden = true;
				out.removeAttribute("data-checking");
			}
		});
	}

	input.addEventListener("input", function () {
		clearTimeout(timer);
		if (input.value === "") {
			latest++;
			out.hidden = true;
			out.removeAttribute("data-checking");
			return;
		}
		// What the meter shows is for an earlier value until the answer comes.
		out.setAttribute("data-checking", "");
		timer = setTimeout(check, 250);
	});
})();
