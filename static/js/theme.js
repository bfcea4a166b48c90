// The theme: the system's (prefers-color-scheme) until someone flips it with the toggle; the
// choice is remembered in this browser. Loaded before the page paints, so it never flashes.
"use strict";

(function () {
  const KEY = "ballast-theme";
  const root = document.documentElement;
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  try {
    const saved = localStorage.getItem(KEY);
    if (saved === "dark" || saved === "light") root.dataset.theme = saved;
  } catch (e) {
    /* storage disabled: follow the system */
  }

  const current = () => root.dataset.theme || (systemDark.matches ? "dark" : "light");

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.querySelector("[data-theme-toggle]");
    if (!button) return;
    const label = () => {
      const next = current() === "dark" ? "light" : "dark";
      button.textContent = next === "dark" ? "Dark theme" : "Light theme";
      button.setAttribute("aria-label", `Switch to the ${next} theme`);
    };
    label();
    systemDark.addEventListener("change", label);
    button.addEventListener("click", () => {
      const next = current() === "dark" ? "light" : "dark";
      root.dataset.theme = next;
      try {
        localStorage.setItem(KEY, next);
      } catch (e) {
        /* applied, not remembered */
      }
      label();
    });
  });
})();
