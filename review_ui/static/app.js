// Svidok review UI: trauma-aware reveal, faces at one scale, deliberate decisions, keyboard shortcuts.
// No external code. The server holds every decision to the same rules (cases/review_rules.py).
(function () {
  "use strict";
  var body = document.body;
  var shielding = body.classList.contains("shield-on");
  function all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  // 1. Reveal in steps: blurred greyscale -> sharp greyscale ("sharp") -> full colour ("revealed").
  // #revealed is the page's attestation, sent with the decision, that no comparison image is still blurred.
  function level(fig) { return fig.classList.contains("revealed") ? 2 : fig.classList.contains("sharp") ? 1 : 0; }
  function raise(fig, to) {
    if (to >= 1) fig.classList.add("sharp");
    if (to >= 2) fig.classList.add("revealed");
  }
  function images() { return all(".shielded").filter(function (f) { return f.querySelector("img"); }); }
  function updateRevealed() {
    var blurred = shielding ? images().filter(function (f) { return level(f) === 0; }).length : 0;
    var input = document.getElementById("revealed");
    if (input) input.value = blurred ? "0" : "1";
    var warning = document.getElementById("still-blurred");
    if (warning) warning.hidden = !blurred;
    updateNeeds();
  }
  document.addEventListener("click", function (event) {
    var fig = event.target.closest && event.target.closest(".shielded");
    if (!fig || !shielding || level(fig) === 2) return;
    event.preventDefault();
    raise(fig, level(fig) + 1);
    updateRevealed();
  }, true);
  function revealAll(to) { all(".shielded").forEach(function (f) { raise(f, to); }); updateRevealed(); }
  var sharpAll = document.getElementById("reveal-sharp"), colourAll = document.getElementById("reveal-colour");
  if (sharpAll) sharpAll.addEventListener("click", function () { revealAll(1); });
  if (colourAll) colourAll.addEventListener("click", function () { revealAll(2); });

  // 2. Faces at one scale: each face box (data-box: top, right, bottom, left) fills the same share of its
  // frame, centred; one zoom control scales every frame alike.
  var FACE_SHARE = 1 / 1.6;        // a face crop is the box plus 30% on every side (analyzers/face_analyzer.py)
  function place(img) {
    var box = (img.getAttribute("data-box") || "").split(",").map(Number);
    var frame = img.closest(".face-frame");
    if (box.length !== 4 || !img.naturalWidth || !frame) return;
    var size = frame.clientWidth, scale = size * FACE_SHARE / Math.max(box[1] - box[3], box[2] - box[0], 1);
    img.style.width = img.naturalWidth * scale + "px";
    img.style.height = img.naturalHeight * scale + "px";
    img.style.left = size / 2 - (box[1] + box[3]) / 2 * scale + "px";
    img.style.top = size / 2 - (box[0] + box[2]) / 2 * scale + "px";
  }
  all(".face-frame img[data-box]").forEach(function (img) {
    if (img.complete) place(img);
    img.addEventListener("load", function () { place(img); });
  });
  var zoom = document.getElementById("zoom"), compare = document.getElementById("compare");
  function setZoom(value) {
    if (!zoom) return;
    zoom.value = String(Math.max(Number(zoom.min), Math.min(Number(zoom.max), value)));
    compare.style.setProperty("--zoom", zoom.value);
  }
  if (zoom) zoom.addEventListener("input", function () { setZoom(Number(zoom.value)); });

  // 3. Deliberate decisions: "same person" and "not the same person" open a step listing what the verdict
  // needs; its record button stays disabled until every need is met. One step is open at a time.
  var form = document.getElementById("decide");
  function needsMet() {
    var radios = all("#checklist input[type=radio]", form);
    var names = radios.map(function (r) { return r.name; }).filter(function (n, i, a) { return a.indexOf(n) === i; });
    var checked = radios.filter(function (r) { return r.checked; });
    var observed = form.querySelector("#observation").value.trim() !== "";
    return { checklist: checked.length === names.length,
             similar: checked.some(function (r) { return r.value === "similar"; }),
             observation: observed, reason: observed,
             revealed: form.querySelector("#revealed").value === "1" };
  }
  function updateNeeds() {
    if (!form) return;
    var met = needsMet();
    all("[data-need]", form).forEach(function (li) {
      li.classList.toggle("met", !!met[li.dataset.need]);
      li.classList.toggle("unmet", !met[li.dataset.need]);
    });
    all(".step", form).forEach(function (step) {
      step.querySelector("button[type=submit]").disabled = all("[data-need]", step).some(function (li) {
        return !met[li.dataset.need];
      });
    });
  }
  function closeSteps(except) { all(".step").forEach(function (s) { if (s !== except) s.open = false; }); }
  if (form) {
    form.addEventListener("input", updateNeeds);
    form.addEventListener("change", updateNeeds);
    all(".step", form).forEach(function (step) {
      step.addEventListener("toggle", function () {
        if (!step.open) return;
        closeSteps(step);
        updateNeeds();
        step.scrollIntoView({ block: "nearest" });
      });
    });
  }
  updateRevealed();

  // 4. Keyboard shortcuts, by physical key (event.code), so they work on a Ukrainian layout too; not while
  // the reviewer is typing text (radio buttons and checkboxes do not count).
  function typing(el) {
    if (!el) return false;
    if (el.tagName === "INPUT") return ["radio", "checkbox", "button", "submit", "range"].indexOf(el.type) < 0;
    return el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable;
  }
  function keyName(event) {
    var code = event.code || "";
    if (/^Key[A-Z]$/.test(code)) return code.charAt(3).toLowerCase();
    if (code === "Equal" || code === "NumpadAdd") return "+";
    if (code === "Minus" || code === "NumpadSubtract") return "-";
    return event.key;              // Enter, Escape, arrows: the same on every layout
  }

  // Queue page: j/k move the selection, Enter or o opens it.
  var rows = all(".queue-row");
  var selected = 0;
  function select(i) {
    if (!rows.length) return;
    rows[selected].classList.remove("selected");
    selected = Math.max(0, Math.min(rows.length - 1, i));
    rows[selected].classList.add("selected");
    rows[selected].scrollIntoView({ block: "nearest" });
  }
  if (rows.length) select(0);

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape") { closeSteps(null); return; }
    var active = document.activeElement;
    if (typing(active)) return;
    var key = keyName(event);
    if (rows.length) {
      if (key === "j" || key === "ArrowDown") { select(selected + 1); event.preventDefault(); return; }
      if (key === "k" || key === "ArrowUp") { select(selected - 1); event.preventDefault(); return; }
      if (key === "Enter" || key === "o") { window.location.href = rows[selected].dataset.href; return; }
    }
    if (key === "+" || key === "-") { setZoom(Number(zoom ? zoom.value : 1) + (key === "+" ? 0.25 : -0.25)); return; }
    if (active && (active.type === "radio" || active.type === "range")) {
      if (key.indexOf("Arrow") === 0) return;          // arrows move within the radio group or the slider
    }
    if (key === "ArrowRight") key = "j";
    if (key === "ArrowLeft") key = "k";
    var target = document.querySelector('[data-key="' + key + '"]');
    if (target) { event.preventDefault(); target.click(); }
  });

  // A "back" link returns to the page as it was (the form as filled) when there is one to return to.
  all("[data-history-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });
})();
