// Writes a brotli (.br) and a gzip (.gz) copy beside each text file of a built portal, at the
// highest levels: they are made once per build and served to every browser that accepts them.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const TEXT = /\.(html|js|mjs|css|svg|json|txt|map)$/;

function walk(directory) {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const root = process.argv[2];
if (!root) {
  console.error("usage: node compress.mjs <built portal directory>");
  process.exit(2);
}
for (const path of walk(root).filter((path) => TEXT.test(path))) {
  const raw = readFileSync(path);
  writeFileSync(`${path}.br`, brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  writeFileSync(`${path}.gz`, gzipSync(raw, { level: 9 }));
}
