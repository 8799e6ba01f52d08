// Svidok review UI: trauma-aware media reveal and keyboard shortcuts. No external code.
(function () {
  "use strict";

  // Shielded media stay greyscale and blurred until clicked (first click only reveals).
  document.addEventListener("click", function (event) {
    var fig = event.target.closest && event.target.closest(".shielded");
    if (!fig || !document.body.classList.contains("shield-on") || fig.classList.contains("revealed")) return;
    event.preventDefault();
    fig.classList.add("revealed");
  }, true);

  // Keys are shortcuts unless the reviewer is typing text (radio buttons and checkboxes do not count).
  function typing(el) {
    if (!el) return false;
    if (el.tagName === "INPUT") return ["radio", "checkbox", "button", "submit"].indexOf(el.type) < 0;
    return el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable;
  }

  // Queue page: j/k move the selection, Enter or o opens it.
  var rows = Array.prototype.slice.call(document.querySelectorAll(".queue-row"));
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
    if (event.ctrlKey || event.metaKey || event.altKey || typing(document.activeElement)) return;
    var key = event.key;
    if (rows.length) {
      if (key === "j" || key === "ArrowDown") { select(selected + 1); event.preventDefault(); return; }
      if (key === "k" || key === "ArrowUp") { select(selected - 1); event.preventDefault(); return; }
      if (key === "Enter" || key === "o") { window.location.href = rows[selected].dataset.href; return; }
    }
    if (key === "ArrowRight") key = "j";
    if (key === "ArrowLeft") key = "k";
    var target = document.querySelector('[data-key="' + key + '"]');
    if (target) { event.preventDefault(); target.click(); }
  });
})();
