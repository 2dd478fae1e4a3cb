// page-run.js (being written)
