// page-crm.js (being written)
