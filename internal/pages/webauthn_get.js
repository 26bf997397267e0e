(function () {
  "use strict";
  var form = document.getElementById("webauthn-form");
  var failed = document.getElementById("webauthn-error");
  function b64(buf) {
    var s = "";
    new Uint8Array(buf).forEach(function (c) { s += String.fromCharCode(c); });
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function bytes(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    return Uint8Array.from(atob(s), function (c) { return c.charCodeAt(0); });
  }
  document.getElementById("webauthn-button").addEventListener("click", function () {
    failed.hidden = true;
    var pk = JSON.parse(form.dataset.options).publicKey;
    pk.challenge = bytes(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = bytes(c.id); });
    navigator.credentials.get({ publicKey: pk }).then(function (cred) {
      var r = cred.response;
      document.getElementById("webauthn-credential").value = JSON.stringify({
        id: cred.id,
        rawId: b64(cred.rawId),
        type: cred.type,
        authenticatorAttachment: cred.authenticatorAttachment || undefined,
        clientExtensionResults: cred.getClientExtensionResults(),
        response: {
          clientDataJSON: b64(r.clientDataJSON),
          authenticatorData: b64(r.authenticatorData),
          signature: b64(r.signature),
          userHandle: r.userHandle ? b64(r.userHandle) : undefined
        }
      });
      form.submit();
    }, function () { failed.hidden = false; });
  });
})();
