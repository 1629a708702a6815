// A form being sent shows that it is working and cannot be sent twice by a second click.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.method !== "post" || form.getAttribute("aria-busy") === "true") {
    if (form.getAttribute("aria-busy") === "true") event.preventDefault();
    return;
  }
  form.setAttribute("aria-busy", "true");
  form.dataset.busy = document.documentElement.dataset.busy || "…";
});
// A page brought back from the browser's history is ready again.
window.addEventListener("pageshow", () => {
  for (const form of document.querySelectorAll("form[aria-busy]")) form.removeAttribute("aria-busy");
});
