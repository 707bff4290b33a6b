// Declares the functions that the TypeScript loader supplies as WebAssembly imports, so that
// emscripten links them as imports from "env" instead of reporting undefined symbols.
mergeInto(LibraryManager.library, {
  qyn_random_fill: function () {},
});
