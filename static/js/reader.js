/*
 * Reader pages' progressive enhancement. Nothing here is needed: every page
 * works and reads the same with scripts off.
 *
 * - "Copy" buttons beside the citation formats of "Cite this page".
 * - Printing opens every <details>, so that nothing folded is left off paper.
 */
(function () {
  "use strict";

  function addCopyButtons() {
    var blocks = document.querySelectorAll("[data-copy]");
    if (!navigator.clipboard) {
      return;
    }
    Array.prototype.forEach.call(blocks, function (block) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-button button-quiet";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy the " + block.getAttribute("data-copy"));
      var status = document.createElement("span");
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(block.textContent.trim()).then(function () {
          button.textContent = "Copied";
          status.textContent = "Copied to the clipboard.";
        });
      });
      block.parentNode.insertBefore(button, block);
      block.parentNode.insertBefore(status, block);
    });
  }

  function openDetailsForPrint() {
    var closed = [];
    window.addEventListener("beforeprint", function () {
      closed = Array.prototype.filter.call(
        document.querySelectorAll("details:not([open])"),
        function (details) { return !details.closest(".cite-page"); }
      );
      closed.forEach(function (details) { details.open = true; });
    });
    window.addEventListener("afterprint", function () {
      closed.forEach(function (details) { details.open = false; });
      closed = [];
    });
  }

  function start() {
    addCopyButtons();
    openDetailsForPrint();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
