// The Print button of the referral cards page. Pages carry no inline
// script (their Content-Security-Policy allows scripts from the site only),
// so the button is wired here.
for (const button of document.querySelectorAll("button[data-print]")) {
  button.addEventListener("click", () => window.print());
}
