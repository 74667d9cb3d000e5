// The console's only script of its own: progressive enhancements, no business rule.
(function () {
  "use strict";
  // A 422 carries the form again with the service's messages beside their fields: swap it like a 200.
  if (window.htmx) {
    window.htmx.config.responseHandling = [
      {code: "204", swap: false},
      {code: "[23]..", swap: true},
      {code: "422", swap: true},
      {code: "[45]..", swap: false, error: true},
    ];
  }
  // A form marked data-una-volta (it moves money or writes an act) is sent once: its submit buttons
  // are disabled on the first submit (its Idempotency-Key makes a second one harmless anyway).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-una-volta")) return;
    if (form.dataset.inviato === "1") { event.preventDefault(); return; }
    form.dataset.inviato = "1";
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        b.setAttribute("aria-disabled", "true"); b.classList.add("disabled");
      });
    }, 0);
  }, true);
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form instanceof HTMLFormElement && form.dataset.inviato) {
      delete form.dataset.inviato;
      form.querySelectorAll(".disabled[aria-disabled]").forEach(function (b) {
        b.removeAttribute("aria-disabled"); b.classList.remove("disabled");
      });
    }
  });
  // After an HTMX swap that shows errors, move the focus to their summary so screen readers announce it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var riepilogo = event.detail.target.querySelector("[data-riepilogo-errori]");
    if (riepilogo) riepilogo.focus();
  });
  // A select of awards (data-compila-cig): choosing one writes its CIG in the CIG field, and its awardee in
  // the name field if empty. Only typing for the person: finance takes the award's CIG whatever is sent.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.dataset.compilaCig) return;
    var opzione = select.options[select.selectedIndex];
    var cig = document.getElementById(select.dataset.compilaCig);
    var nome = document.getElementById(select.dataset.compilaDenominazione || "");
    if (cig) {
      if (opzione && opzione.dataset.cig) { cig.value = opzione.dataset.cig; cig.dataset.compilato = "1"; }
      else if (cig.dataset.compilato) { cig.value = ""; delete cig.dataset.compilato; }
    }
    if (nome && !nome.value && opzione && opzione.dataset.denominazione) nome.value = opzione.dataset.denominazione;
  });
  // Charts: a <canvas data-grafico='{...Chart.js config...}'> is drawn when Chart.js is on the page.
  function disegna(radice) {
    if (!window.Chart) return;
    radice.querySelectorAll("canvas[data-grafico]").forEach(function (c) {
      if (c.dataset.disegnato) return;
      c.dataset.disegnato = "1";
      new window.Chart(c, JSON.parse(c.dataset.grafico));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    disegna(document);
    // A page that comes back with errors: focus their summary so that screen readers announce it.
    var riepilogo = document.querySelector("[data-riepilogo-errori]");
    if (riepilogo) riepilogo.focus();
  });
  // The whole document: after an outerHTML swap the event's target is the element that was replaced.
  document.addEventListener("htmx:afterSettle", function () { disegna(document); });
})();
