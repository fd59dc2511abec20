/* Quiz page: a countdown from the server's seconds left, and autosave of each answer through
   PUT /api/v1/attempts/<id>/answers/<position>. The page works without it (plain submit). */
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form) { return; }
  var status = document.getElementById("save-status");
  var token = form.elements.csrf_token.value;

  function selected(fieldset) {
    var ids = [];
    fieldset.querySelectorAll("input:checked").forEach(function (input) {
      ids.push(parseInt(input.value, 10));
    });
    return ids;
  }

  function save(fieldset) {
    var position = fieldset.getAttribute("data-position");
    fetch(form.getAttribute("data-save-url") + position, {
      method: "PUT",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: JSON.stringify({selected: selected(fieldset)})
    }).then(function (response) {
      status.textContent = form.getAttribute(response.ok ? "data-saved" : "data-not-saved");
    }).catch(function () {
      status.textContent = form.getAttribute("data-not-saved");
    });
  }

  form.addEventListener("change", function (event) {
    var fieldset = event.target.closest("fieldset[data-position]");
    if (fieldset) { save(fieldset); }
  });

  var timer = document.getElementById("timer");
  if (!timer) { return; }
  var value = document.getElementById("timer-value");
  var deadline = Date.now() + 1000 * parseInt(timer.getAttribute("data-seconds-left"), 10);
  var submitted = false;

  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var seconds = left % 60;
    value.textContent = Math.floor(left / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
    if (left === 0 && !submitted) {
      submitted = true;  // the server allows a few seconds' grace for this submit
      form.requestSubmit();
      return;
    }
    if (left > 0) { window.setTimeout(tick, 1000); }
  }
  form.addEventListener("submit", function () { submitted = true; });
  tick();
}());
