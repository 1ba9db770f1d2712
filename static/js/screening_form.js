// Shows the derived values as the user types. Every value is computed on the server by
// enrollment/eligibility.py (POST /api/screenings/preview/): no clinical rule lives here.
(function () {
  const form = document.getElementById("screening-form");
  const panel = document.getElementById("derived");
  if (!form || !panel) return;
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const show = (key, text) => {
    const el = panel.querySelector(`[data-derived="${key}"]`);
    if (el) el.textContent = text === undefined || text === null ? "–" : text;
  };
  const fixed = (value, digits) => (value === undefined ? undefined : Number(value).toFixed(digits));

  function values() {
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.name === "reason") continue;
      if (el.type === "radio") {
        if (el.checked) body[el.name] = el.value === "True";
      } else if (el.type === "checkbox") {
        body[el.name] = el.checked;
      } else if (el.value !== "") {
        body[el.name] = el.value;
      }
    }
    return body;
  }

  let timer = null;
  let sequence = 0;
  async function refresh() {
    const mine = ++sequence;
    const response = await fetch(panel.dataset.previewUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(values()),
      credentials: "same-origin",
    });
    if (!response.ok || mine !== sequence) return;
    const d = await response.json();
    show("age_years", d.age_years);
    show("bilirubin_umol_l", fixed(d.bilirubin_umol_l, 1));
    show("bilirubin_x_uln", fixed(d.bilirubin_x_uln, 2));
    show("albumin_g_l", fixed(d.albumin_g_l, 1));
    show("egfr", d.egfr === undefined ? undefined : fixed(d.egfr, 1) + " mL/min/1.73 m²");
    show("child_pugh", d.child_pugh_class ? `${d.child_pugh_class} (${d.child_pugh_points} points)` : undefined);
    show("outcome", d.outcome === undefined ? undefined : d.outcome === "eligible" ? "Eligible" : "Screen failure");
    // Values the record would refuse: named, and nothing derived from them (the server says).
    const problems = document.getElementById("derived-problems");
    problems.replaceChildren(...Object.entries(d.problems || {}).map(([field, messages]) => {
      const li = document.createElement("li");
      const label = form.querySelector(`label[for="id_${field}"]`);
      li.textContent = `${label ? label.textContent.replace("*", "").trim() : field}: ${messages.join(" ")}`;
      return li;
    }));
    const list = document.getElementById("derived-failed");
    list.replaceChildren(...(d.failed_criteria || []).map((c) => {
      const li = document.createElement("li");
      li.textContent = c.text;
      return li;
    }));
    panel.dataset.updated = String(mine);
  }

  const schedule = () => { clearTimeout(timer); timer = setTimeout(refresh, 250); };
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  refresh();
})();
