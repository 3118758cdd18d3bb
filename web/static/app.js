// The light touch of JavaScript: the NHS.UK frontend's components (header menu, skip link,
// error summary focus, details) and, on the heatmap, filters that apply as soon as they change.
// Every page works without it.
import { initAll } from './nhsuk-frontend.min.js';

initAll();

for (const form of document.querySelectorAll('form.app-filters')) {
  for (const select of form.querySelectorAll('select')) {
    select.addEventListener('change', () => form.requestSubmit());
  }
}
