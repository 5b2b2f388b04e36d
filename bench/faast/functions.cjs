// The function module faast.js ships to its workers (it ships modules, not closures).
exports.noop = (x) => x;
