// Command Center behaviour. No inline handlers: the Content-Security-Policy allows scripts from
// Claresia's own origin only.
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-autosubmit]");
  if (field) field.form.submit();
});
