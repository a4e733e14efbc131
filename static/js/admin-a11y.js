/*
 * Accessibility repairs of markup the admin's widgets write at run time:
 * select2 (the autocompletes) leaves its search box without a label and puts
 * a mouse-only "clear" cross among the items of its list. Applied to every
 * select2 as it appears, in rows added later too.
 */
(function () {
  "use strict";

  function labelFor(container) {
    var select = container.previousElementSibling;
    if (!select || !select.id) return "";
    var label = document.querySelector('label[for="' + select.id + '"]');
    return label ? label.textContent.replace(/:\s*$/, "").trim() : "";
  }

  function repair() {
    document.querySelectorAll(".select2-container").forEach(function (container) {
      var name = labelFor(container);
      container.querySelectorAll("input.select2-search__field").forEach(function (input) {
        if (!input.hasAttribute("aria-label")) {
          input.setAttribute("aria-label", name ? "Search " + name.toLowerCase() : "Search");
        }
      });
      container.querySelectorAll(".select2-selection__clear").forEach(function (cross) {
        // Backspace clears from the keyboard; the cross is for the mouse.
        cross.setAttribute("aria-hidden", "true");
      });
    });
  }

  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      repair();
    });
  }

  function start() {
    repair();
    new MutationObserver(schedule).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
