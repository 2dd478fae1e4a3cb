// drill.js (being written)
