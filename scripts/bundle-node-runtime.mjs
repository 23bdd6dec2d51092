#!/usr/bin/env node
// Writes runtimes/nodejs/bootstrap.mjs, the file lambdad runs for nodejs*.x functions, from the
// runtime client's modules: runtimes/nodejs/lib/main.mjs and what it imports, in one ES module.
// Node loads an ES module graph file by file (resolve, read, compile, link each); one file spares a
// cold start most of that. The modules are laid one after the other in the order Node would
// evaluate them, their imports of each other dropped and their imports of Node's built-ins
// gathered at the top; so their top-level names must be distinct, which this checks. Built-ins
// are taken with require() (createRequire), not import: an ES module's import of a built-in
// builds a facade that reads every export, and node:fs's getters load fs/promises and the file
// streams, which a cold start does not need.
//
//   node scripts/bundle-node-runtime.mjs           # writes the bundle
//   node scripts/bundle-node-runtime.mjs --check   # exits 1 if the bundle is not up to date
//
// Only the forms the runtime uses are taken: `import x from 'node:y'`, `import { a, b } from
// 'node:y'` or './lib.mjs', and `export` before a function, class, const or let declaration.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNTIME = path.join(REPO, 'runtimes', 'nodejs');
export const ENTRY = path.join(RUNTIME, 'lib', 'main.mjs');
export const OUTPUT = path.join(RUNTIME, 'bootstrap.mjs');

const IMPORT = /^import\s+([^'";]*?)\s+from\s+'([^']+)';[ \t]*\n/gm;
const DECLARATION = /^(?:export\s+)?(?:async\s+)?(?:function\*?|class)\s+([\w$]+)|^(?:export\s+)?(?:const|let|var)\s+([\w$]+|\{[^}]*\})/gm;

const REQUIRE = 'requireBuiltin';

class BundleError extends Error {}

function relative(file) {
  return path.relative(RUNTIME, file);
}

/** {defaultName, names} of an import clause: `x`, `{ a, b }` or `x, { a, b }`. */
function parseClause(clause, where) {
  const m = /^(?:([\w$]+)\s*,?\s*)?(?:\{([^}]*)\})?$/.exec(clause.trim());
  if (!m || (!m[1] && m[2] === undefined)) throw new BundleError(`${where}: unsupported import clause '${clause}'`);
  const names = (m[2] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!/^[\w$]+$/.test(name)) throw new BundleError(`${where}: 'import { ${name} }' (renaming) is not supported`);
  }
  return { defaultName: m[1], names };
}

function declaredNames(body) {
  const names = [];
  for (const m of body.matchAll(DECLARATION)) {
    if (m[1]) names.push(m[1]);
    else if (m[2].startsWith('{')) names.push(...m[2].slice(1, -1).split(',').map((s) => s.split(':').pop().trim()).filter(Boolean));
    else names.push(m[2]);
  }
  return names;
}

function exportedNames(body) {
  return [...body.matchAll(/^export\s+(?:async\s+)?(?:function\*?|class|const|let)\s+([\w$]+)/gm)].map((m) => m[1]);
}

/** The modules from `entry` on, each after those it imports (Node's evaluation order). */
function collect(entry) {
  const modules = [];
  const seen = new Set();
  const visit = (file, chain) => {
    if (chain.includes(file)) throw new BundleError(`import cycle: ${[...chain, file].map(relative).join(' -> ')}`);
    if (seen.has(file)) return;
    seen.add(file);
    const source = fs.readFileSync(file, 'utf8');
    const imports = [...source.matchAll(IMPORT)].map((m) => ({ text: m[0], clause: m[1], from: m[2] }));
    const body = source.replace(IMPORT, '');
    if (/^\s*import[\s{*'"]/m.test(body)) throw new BundleError(`${relative(file)}: an import this script does not take`);
    if (/^export\s+(?!(?:async\s+)?(?:function|class|const|let)\b)/m.test(body)) {
      throw new BundleError(`${relative(file)}: only 'export' before a declaration is taken`);
    }
    const module = { file, body, imports: [] };
    for (const imp of imports) {
      const clause = parseClause(imp.clause, relative(file));
      if (imp.from.startsWith('./') || imp.from.startsWith('../')) {
        const target = path.resolve(path.dirname(file), imp.from);
        if (clause.defaultName) throw new BundleError(`${relative(file)}: default import of ${imp.from}`);
        visit(target, [...chain, file]);
        module.imports.push({ local: target, names: clause.names });
      } else if (imp.from.startsWith('node:')) {
        module.imports.push({ builtin: imp.from, ...clause });
      } else {
        throw new BundleError(`${relative(file)}: import of '${imp.from}' (only node: built-ins and ./ files)`);
      }
    }
    modules.push(module);
  };
  visit(entry, []);
  return modules;
}

/** The bundle's text. */
export function bundle(entry = ENTRY) {
  const modules = collect(entry);
  const exports = new Map(modules.map((m) => [m.file, new Set(exportedNames(m.body))]));
  const builtins = new Map(); // specifier -> {defaultName, names: Set}
  const owner = new Map(); // top-level name -> where it is declared or imported
  const claim = (name, what) => {
    const prior = owner.get(name);
    if (prior !== undefined && prior !== what) throw new BundleError(`'${name}' is both ${prior} and ${what}: rename one`);
    owner.set(name, what);
  };
  claim(REQUIRE, "the bundle's require() of built-ins");
  claim('createRequire', 'createRequire of node:module');
  for (const m of modules) {
    for (const imp of m.imports) {
      if (imp.local) {
        for (const name of imp.names) {
          if (!exports.get(imp.local).has(name)) {
            throw new BundleError(`${relative(m.file)}: ${relative(imp.local)} does not export '${name}'`);
          }
        }
        continue;
      }
      const entryOf = builtins.get(imp.builtin) ?? { defaultName: undefined, names: new Set() };
      builtins.set(imp.builtin, entryOf);
      if (imp.defaultName) {
        if (entryOf.defaultName && entryOf.defaultName !== imp.defaultName) {
          throw new BundleError(`${imp.builtin} is imported as '${entryOf.defaultName}' and '${imp.defaultName}'`);
        }
        entryOf.defaultName = imp.defaultName;
        claim(imp.defaultName, `the default of ${imp.builtin}`);
      }
      for (const name of imp.names) {
        entryOf.names.add(name);
        claim(name, `${name} of ${imp.builtin}`);
      }
    }
    for (const name of declaredNames(m.body)) claim(name, `declared in ${relative(m.file)}`);
  }

  const sources = [];
  for (const m of modules) {
    const name = relative(m.file);
    if (sources.length && sources.at(-1).length + name.length < 96) sources[sources.length - 1] += ` ${name}`;
    else sources.push(`//   ${name}`);
  }
  const out = [
    '// GENERATED by scripts/bundle-node-runtime.mjs from these files of runtimes/nodejs:',
    ...sources,
    '// Do not edit; edit those and run `node scripts/bundle-node-runtime.mjs`',
    '// (tests/unit/runtimes_js/bundle.test.mjs fails while this file is not what it writes).',
    '//',
    "// lambdad's Node.js runtime client, one file so that a cold start loads one module, not a",
    '// graph of them. lambdad runs it as `<node> <runtimes>/nodejs/bootstrap.mjs` (lib/main.mjs).',
  ];
  out.push("import { createRequire } from 'node:module';", `const ${REQUIRE} = createRequire(import.meta.url);`);
  for (const [specifier, { defaultName, names }] of [...builtins].sort(([a], [b]) => a.localeCompare(b))) {
    if (defaultName) out.push(`const ${defaultName} = ${REQUIRE}('${specifier}');`);
    if (specifier === 'node:module') names.delete('createRequire');
    if (names.size) out.push(`const { ${[...names].sort().join(', ')} } = ${REQUIRE}('${specifier}');`);
  }
  for (const m of modules) {
    const body = m.body.replace(/^export\s+(?=(?:async\s+)?(?:function|class|const|let)\b)/gm, '');
    out.push('', `// ---- ${relative(m.file)} ----`, body.replace(/^\n+/, '').replace(/\n+$/, ''));
  }
  return out.join('\n') + '\n';
}

function main(args) {
  const check = args.includes('--check');
  let text;
  try {
    text = bundle();
  } catch (e) {
    if (!(e instanceof BundleError)) throw e;
    process.stderr.write(`bundle-node-runtime: ${e.message}\n`);
    return 2;
  }
  const current = fs.existsSync(OUTPUT) ? fs.readFileSync(OUTPUT, 'utf8') : '';
  if (check) {
    if (current === text) return 0;
    process.stderr.write(`${relative(OUTPUT)} is not up to date: run node scripts/bundle-node-runtime.mjs\n`);
    return 1;
  }
  if (current !== text) fs.writeFileSync(OUTPUT, text);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
