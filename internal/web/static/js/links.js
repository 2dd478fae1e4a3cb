// links.js (being written)
