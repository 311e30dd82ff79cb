// Passkey ceremonies for the gateway's pages (sign-in, the second step,
// adding a passkey). Each page has one <form data-passkey="signin|step|
// register" data-passkey-begin="…">: this script POSTs to the begin URL for
// the WebAuthn options, asks the browser (navigator.credentials), writes the
// answer as JSON into the form's hidden "credential" field and submits the
// form, so the server answers with an ordinary page or redirect. On the
// sign-in page it also offers passkeys in the username field's autofill
// (conditional mediation). Served from the gateway's static files; the CSP
// of these pages allows only 'self' scripts, no inline script and no eval.
// Without this script (or without passkey support) the forms stay hidden
// and the password and code forms work as before.
(function () {
	"use strict";
	var form = document.querySelector("form[data-passkey]");
	if (!form) {
		return;
	}
	var mode = form.getAttribute("data-passkey");
	var beginURL = form.getAttribute("data-passkey-begin");
	var start = form.querySelector("[data-passkey-start]");
	var errorBox = document.getElementById("passkey-error");
	if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
		var unsupported = document.getElementById("passkey-unsupported");
		if (unsupported) {
			unsupported.hidden = false;
		}
		return;
	}

	function fromB64url(s) {
		var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
		while (b64.length % 4) {
			b64 += "=";
		}
		var bin = atob(b64);
		var out = new Uint8Array(bin.length);
		for (var i = 0; i < bin.length; i++) {
			out[i] = bin.charCodeAt(i);
		}
		return out.buffer;
	}

	function toB64url(buf) {
		var bytes = new Uint8Array(buf);
		var bin = "";
		for (var i = 0; i < bytes.length; i++) {
			bin += String.fromCharCode(bytes[i]);
		}
		return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
	}

	function decodeList(list) {
		(list || []).forEach(function (c) {
			c.id = fromB64url(c.id);
		});
	}

	// answerJSON is the credential as the server reads it (the JSON form
	// of WebAuthn Level 3's toJSON, written out for older browsers).
	function answerJSON(cred) {
		var r = cred.response;
		var out = {
			id: cred.id,
			rawId: toB64url(cred.rawId),
			type: cred.type,
			clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
			response: { clientDataJSON: toB64url(r.clientDataJSON) }
		};
		if (cred.authenticatorAttachment) {
			out.authenticatorAttachment = cred.authenticatorAttachment;
		}
		if (r.attestationObject) {
			out.response.attestationObject = toB64url(r.attestationObject);
			if (r.getTransports) {
				out.response.transports = r.getTransports();
			}
		} else {
			out.response.authenticatorData = toB64url(r.authenticatorData);
			out.response.signature = toB64url(r.signature);
			if (r.userHandle) {
				out.response.userHandle = toB64url(r.userHandle);
			}
		}
		return out;
	}

	function showError(msg) {
		if (errorBox) {
			errorBox.textContent = msg;
			errorBox.hidden = false;
		}
	}

	function begin() {
		return fetch(beginURL, {
			method: "POST",
			credentials: "same-origin",
			headers: { "Accept": "application/json" }
		}).then(function (resp) {
			return resp.json().then(function (body) {
				if (!resp.ok) {
					throw new Error(body.error || "Passkeys are unavailable right now.");
				}
				return body.publicKey;
			});
		});
	}

	function submit(cred) {
		form.querySelector("input[name=credential]").value = JSON.stringify(answerJSON(cred));
		form.submit();
	}

	function failed(err) {
		if (err && err.name === "AbortError") {
			return;
		}
		if (err && err.name === "NotAllowedError") {
			showError("The passkey request was cancelled or timed out. Try again.");
		} else if (err && err.name === "InvalidStateError" && mode === "register") {
			showError("This device already has a passkey for your account.");
		} else {
			showError((err && err.message) || "The passkey request failed. Try again.");
		}
		if (start) {
			start.disabled = false;
		}
	}

	var conditional = null; // AbortController of the autofill request

	function getAssertion(extra) {
		return begin().then(function (pk) {
			decodeList(pk.allowCredentials);
			pk.challenge = fromB64url(pk.challenge);
			var req = { publicKey: pk };
			for (var k in extra) {
				req[k] = extra[k];
			}
			return navigator.credentials.get(req);
		});
	}

	function create() {
		return begin().then(function (pk) {
			pk.challenge = fromB64url(pk.challenge);
			pk.user.id = fromB64url(pk.user.id);
			decodeList(pk.excludeCredentials);
			return navigator.credentials.create({ publicKey: pk });
		});
	}

	function run() {
		if (errorBox) {
			errorBox.hidden = true;
		}
		if (start) {
			start.disabled = true;
		}
		if (conditional) {
			conditional.abort();
			conditional = null;
		}
		var p = mode === "register" ? create() : getAssertion({});
		p.then(function (cred) {
			if (cred) {
				submit(cred);
			}
		}).catch(failed);
	}

	if (start) {
		start.hidden = false;
		start.addEventListener("click", run);
	}

	// Autofill: offer the passkeys of this site in the username field, so
	// choosing one signs in without typing anything.
	if (mode === "signin" && PublicKeyCredential.isConditionalMediationAvailable) {
		PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
			if (!ok || conditional) {
				return;
			}
			conditional = new AbortController();
			var signal = conditional.signal;
			getAssertion({ mediation: "conditional", signal: signal }).then(function (cred) {
				if (cred && !signal.aborted) {
					submit(cred);
				}
			}).catch(function (err) {
				if (!signal.aborted) {
					failed(err);
				}
			});
		}).catch(function () {});
	}
})();
