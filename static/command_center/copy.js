// "Copy" buttons for a value shown once (a minted hub token): a static file, so the
// Content-Security-Policy (script-src 'self') holds. The button names the element to copy with
// data-copy and says in its aria-describedby status whether it worked.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  const status = document.getElementById(button.getAttribute("aria-describedby"));
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    if (status) status.textContent = "Copied.";
  } catch {
    // No clipboard (plain http, a refused permission): select it for Ctrl-C instead.
    const range = document.createRange();
    range.selectNodeContents(source);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    if (status) status.textContent = "Selected: press Ctrl-C (⌘-C) to copy.";
  }
});
