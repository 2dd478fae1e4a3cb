// page-history.js (being written)
