// Shows BSA and the dose while the weight and target are typed. Computed on the server by
// dosing/rules.py (POST /api/dosing/preview/): no dosing rule lives here.
(function () {
  const form = document.getElementById("infusion-form");
  const panel = document.getElementById("dose-preview");
  if (!form || !panel) return;
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const field = (name) => form.querySelector(`[name=${name}]`);
  const show = (key, text) => { panel.querySelector(`[data-derived="${key}"]`).textContent = text ?? "–"; };
  let timer = null;
  async function refresh() {
    const body = {
      study_id: panel.dataset.studyId,
      weight_kg: field("weight_kg").value,
      target_cells_per_m2: field("target_cells_per_m2").value,
      bsa_formula: field("bsa_formula").value,
    };
    if (!body.weight_kg || !body.target_cells_per_m2) return;
    const response = await fetch(panel.dataset.previewUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    if (!response.ok) return;
    const d = await response.json();
    show("bsa_m2", d.bsa_m2 === undefined ? undefined : `${Number(d.bsa_m2).toFixed(4)} m²`);
    show("computed_dose_cells", d.computed_dose_shown);
    const problems = [...(d.body_problems || [])];
    if (d.target_in_range === false) problems.push("Target outside 1e8–1e9 cells/m²: refused unless recorded as a deviation with its reason.");
    document.getElementById("dose-problems").replaceChildren(...problems.map((p) => {
      const li = document.createElement("li"); li.textContent = p; return li;
    }));
  }
  const schedule = () => { clearTimeout(timer); timer = setTimeout(refresh, 250); };
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  refresh();
})();
