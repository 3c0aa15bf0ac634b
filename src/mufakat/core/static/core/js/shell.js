// Small progressive enhancements for the shell; every page works without them.
document.addEventListener("change", (ev) => {
  const el = ev.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit")) el.form.submit();
});
