// The CTCAE term picker: searches the catalog shipped with the product (GET
// /api/safety/ctcae-terms/?q=) by term, SOC or MedDRA code, then offers only the grades that
// term defines, each with its definition. The server checks everything again (safety/rules.py).
(function () {
  const picker = document.getElementById("term-picker");
  if (!picker) return;
  const search = document.getElementById("term-search");
  const options = document.getElementById("term-options");
  const chosen = document.getElementById("term-chosen");
  const code = document.querySelector("input[name=meddra_code]");
  const grades = document.getElementById("grade-options");
  const el = (tag, attrs = {}, text = "") => {
    const node = document.createElement(tag);
    Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
    node.textContent = text;
    return node;
  };
  // CRS and ICANS: their ASTCT inputs are shown (the server grades them, safety/crs.py).
  const crsBox = document.getElementById("astct-crs");
  const icansBox = document.getElementById("astct-icans");
  const specification = document.querySelector("input[name=specification]");
  let termName = "";
  const gradeNote = document.getElementById("astct-grade-note");
  function showAstct() {
    if (!crsBox || !icansBox) return;
    const crs = termName === crsBox.dataset.term;
    crsBox.classList.toggle("d-none", !crs);
    const spec = (specification && specification.value || "").toLowerCase();
    const icans = termName === icansBox.dataset.term && (spec.includes("icans") || spec.includes("immune effector cell"));
    icansBox.classList.toggle("d-none", !icans);
    // the ASTCT grade is computed from the inputs: only grade 5 (a death) is chosen by hand
    grades.querySelectorAll("input[name=grade]").forEach((input) => {
      const hide = (crs || icans) && input.value !== "5";
      input.closest(".form-check").classList.toggle("d-none", hide);
      if (hide) input.checked = false;
    });
    if (gradeNote) gradeNote.classList.toggle("d-none", !(crs || icans));
  }
  if (specification) specification.addEventListener("input", showAstct);
  function choose(term) {
    termName = term.term;
    if (termName === (icansBox && icansBox.dataset.term) && specification && !specification.value) {
      specification.placeholder = icansBox.dataset.specification;
    }
    code.value = term.meddra_code;
    chosen.classList.remove("d-none");
    chosen.querySelector('[data-term="name"]').textContent = term.term;
    chosen.querySelector('[data-term="code"]').textContent = `${term.soc} · MedDRA ${term.meddra_code}`;
    chosen.querySelector('[data-term="definition"]').textContent = term.definition;
    options.replaceChildren();
    search.value = "";
    grades.replaceChildren(...Object.entries(term.grades).map(([grade, text]) => {
      const box = el("div", { class: "form-check" });
      const input = el("input", { class: "form-check-input", type: "radio", name: "grade", value: grade, id: `grade-${grade}` });
      box.append(input, el("label", { class: "form-check-label", for: `grade-${grade}` }, `Grade ${grade}: ${text}`));
      return box;
    }));
    showAstct();
  }
  termName = (chosen.querySelector('[data-term="name"]') || {}).textContent || "";
  showAstct();
  let timer = null;
  let asked = 0;
  async function find() {
    const q = search.value.trim();
    if (q.length < 2) { options.replaceChildren(); return; }
    const ticket = ++asked;
    const response = await fetch(`${picker.dataset.searchUrl}?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
    if (!response.ok || ticket !== asked) return;
    const page = await response.json();
    options.replaceChildren(...page.results.slice(0, 15).map((term) => {
      const button = el("button", { type: "button", class: "list-group-item list-group-item-action term-option", role: "option" });
      button.append(el("strong", {}, term.term), el("span", { class: "text-muted small ms-2" }, `${term.soc} · ${term.meddra_code}`));
      button.addEventListener("click", () => choose(term));
      return button;
    }));
    if (page.count > 15) options.append(el("div", { class: "list-group-item text-muted small" }, `${page.count - 15} more: type more of the term.`));
    if (!page.results.length) options.replaceChildren(el("div", { class: "list-group-item text-muted" }, "No CTCAE v5.0 term matches."));
  }
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(find, 200); });
  // Enter never submits the whole form from the search box: it takes the highlighted (or the
  // only, or the first) suggestion; the arrow keys move the highlight; Escape closes the list.
  let active = -1;
  const choices = () => [...options.querySelectorAll(".term-option")];
  function highlight(index) {
    const all = choices();
    if (!all.length) return;
    active = (index + all.length) % all.length;
    all.forEach((b, i) => { b.classList.toggle("active", i === active); b.setAttribute("aria-selected", i === active); });
    all[active].scrollIntoView({ block: "nearest" });
  }
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      event.preventDefault();
      const all = choices();
      if (all.length) all[active >= 0 && active < all.length ? active : 0].click();
    } else if (event.key === "Escape") {
      options.replaceChildren();
    }
  });
  new MutationObserver(() => { active = -1; }).observe(options, { childList: true });
  if (search.value.trim()) find(); // typed before this script ran
})();
