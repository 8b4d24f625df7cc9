// Command Center behaviour. No inline handlers: the Content-Security-Policy allows scripts from
// Claresia's own origin only.
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field) field.form.submit();
});

// A table wider than a phone's screen scrolls inside its box: make it reachable by keyboard.
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("main table")) {
    if (table.scrollWidth > table.clientWidth) table.tabIndex = 0;
  }
});
