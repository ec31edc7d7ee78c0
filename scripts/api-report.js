#!/usr/bin/env node
// The public API report: every name the package exports (per entry of
// package.json "exports"), with its declaration as users' TypeScript sees it,
// plus the declarations those reach without exporting them. Comments and
// private members are left out, so the diff of api/attach-ws.api.md shows
// exactly the changes to the surface.
//
//   npm run api:report            build, then regenerate api/attach-ws.api.md (after a merge: run, read the diff, commit)
//   npm run api:report -- --check build, then exit 1 with a diff if the committed report is out of date
//
// It reads dist/*.d.ts (what is published); `npm run api:report` builds first,
// and the script refuses a dist/ older than src/.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');
const reportFile = path.join(root, 'api', 'attach-ws.api.md');

const distDir = path.join(root, 'dist');

/**
 * Emit src/'s declarations (tsconfig.build.json, so stripInternal applies)
 * into a fresh directory under node_modules/.cache (inside the project, so
 * the declarations resolve express and ioredis types). The test uses this:
 * it never depends on whether dist/ was rebuilt, and never writes to dist/
 * while other test files read it. --noCheck: `npm run lint` type-checks src/;
 * the emit alone is several times faster.
 */
function emitDeclarations() {
  const cache = path.join(root, 'node_modules', '.cache');
  fs.mkdirSync(cache, { recursive: true });
  const outDir = fs.mkdtempSync(path.join(cache, 'attach-ws-dts-'));
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--emitDeclarationOnly', '--noCheck', '--sourceMap', 'false', '--outDir', outDir], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return outDir;
}

/** The report (and what it was made of) from freshly emitted declarations; `inspect` sees the directory before it is removed. */
function generateFresh(inspect = () => undefined) {
  const dtsDir = emitDeclarations();
  try {
    const collected = collectApi(dtsDir);
    inspect(dtsDir);
    return { text: render(collected), collected };
  } finally {
    fs.rmSync(dtsDir, { recursive: true, force: true });
  }
}

/**
 * Why dist/ cannot be trusted to match src/, or null. A .d.ts older than the
 * newest source file means someone changed src/ without `npm run build`.
 */
function staleDist() {
  const index = path.join(distDir, 'index.d.ts');
  if (!fs.existsSync(index)) return 'dist/ has no index.d.ts: run `npm run build`';
  const built = fs.statSync(index).mtimeMs;
  for (const entry of fs.readdirSync(path.join(root, 'src'), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    if (fs.statSync(file).mtimeMs > built) return `dist/ is older than ${path.relative(root, file)}: run \`npm run build\``;
  }
  return null;
}

/** package.json "exports" → [{ subpath, file }] with file inside `dtsDir`. */
function entryPoints(dtsDir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const entries = [];
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    const types = typeof target === 'object' && target !== null ? target.types : undefined;
    if (typeof types !== 'string') continue;
    const rel = path.relative('dist', path.normalize(types));
    entries.push({ subpath: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, '')}`, file: path.join(dtsDir, rel) });
  }
  return entries;
}

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

function isPrivateMember(member) {
  if (member.name && ts.isPrivateIdentifier(member.name)) return true;
  return (ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Private) !== 0;
}

/** The statement to print for a declaration (a variable's whole `declare const`). */
function printable(decl) {
  if (ts.isVariableDeclaration(decl)) return decl.parent.parent;
  return decl;
}

function print(node) {
  const sf = node.getSourceFile();
  let text = printer.printNode(ts.EmitHint.Unspecified, node, sf);
  // Private members are not API; `#private;` only marks that some exist.
  if (ts.isClassDeclaration(node)) {
    const hidden = node.members.filter(isPrivateMember).map((m) => printer.printNode(ts.EmitHint.Unspecified, m, sf));
    text = text
      .split('\n')
      .filter((line) => !hidden.includes(line.trim()))
      .join('\n');
  }
  // `export declare` vs `declare` depends on how a name is exported; drop both for a stable diff.
  return text.replace(/^(export )?(declare )?/, '');
}

/** Public (non-private) member names of a class declaration ([] for anything else). */
function memberNames(decl) {
  if (!ts.isClassDeclaration(decl)) return [];
  return decl.members.filter((m) => !isPrivateMember(m) && m.name).map((m) => m.name.getText());
}

/**
 * Collect the API from the declarations in `dtsDir` (dist/): for every entry, its exports (sorted) and their
 * declarations; then every declaration of ours those reach without it being
 * exported anywhere.
 */
function collectApi(dtsDir) {
  const entries = entryPoints(dtsDir);
  const program = ts.createProgram(
    entries.map((e) => e.file),
    { strict: true, types: ['node'], module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2022, esModuleInterop: true, noEmit: true, ignoreDeprecations: '6.0' },
  );
  // Our declarations, checked as a strict consumer without skipLibCheck would; the rest of the
  // program (@types/node, Express's types) only as far as ours use it. Checking every file and
  // keeping our diagnostics gave the same answer at several times the cost.
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSourceFiles().filter((sf) => sf.fileName.startsWith(dtsDir)).flatMap((sf) => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]),
  ];
  const checker = program.getTypeChecker();
  const ours = (decl) => path.resolve(decl.getSourceFile().fileName).startsWith(dtsDir);
  const exported = new Set(); // declarations reachable by an exported name
  const api = [];
  for (const entry of entries) {
    const sf = program.getSourceFile(entry.file);
    const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) throw new Error(`no module for ${entry.file}`);
    const names = [];
    for (const sym of checker.getExportsOfModule(moduleSymbol).sort((a, b) => a.name.localeCompare(b.name))) {
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      const decls = (target.declarations ?? []).filter(ours);
      for (const d of decls) exported.add(d);
      names.push({ name: sym.name, decls });
    }
    api.push({ subpath: entry.subpath, names });
  }
  // Follow type references from what is exported to what is not.
  const reachable = [];
  const seen = new Set(exported);
  const queue = [...exported];
  while (queue.length > 0) {
    const decl = queue.shift();
    const visit = (node) => {
      if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node) || ts.isTypeQueryNode(node) || ts.isComputedPropertyName(node)) {
        const at = ts.isTypeReferenceNode(node) ? node.typeName : ts.isExpressionWithTypeArguments(node) ? node.expression : ts.isTypeQueryNode(node) ? node.exprName : node.expression;
        let sym = checker.getSymbolAtLocation(at);
        if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
        for (const d of sym?.declarations ?? []) {
          if (!ours(d) || seen.has(d) || ts.isTypeParameterDeclaration(d)) continue;
          seen.add(d);
          reachable.push(d);
          queue.push(d);
        }
      }
      ts.forEachChild(node, visit);
    };
    // Private members' types are not reachable by users.
    if (ts.isClassDeclaration(decl)) {
      for (const clause of decl.heritageClauses ?? []) visit(clause);
      for (const m of decl.members) if (!isPrivateMember(m)) visit(m);
    } else visit(decl);
  }
  reachable.sort((a, b) => where(a, dtsDir).localeCompare(where(b, dtsDir)) || a.pos - b.pos);
  return { api, reachable, diagnostics, dtsDir };
}

function where(decl, dtsDir) {
  return path.relative(dtsDir, decl.getSourceFile().fileName).split(path.sep).join('/');
}

function render({ api, reachable, dtsDir }) {
  const out = [
    '# attach-ws public API',
    '',
    '<!-- Generated by `npm run api:report` from the declarations of src/. Do not edit: regenerate, review the diff, commit. -->',
    '',
    'Every exported name per entry point, as TypeScript users see it (comments and private members left out).',
    '',
  ];
  for (const { subpath, names } of api) {
    out.push(`## \`${subpath}\``, '', '```ts');
    for (const { name, decls } of names) {
      if (decls.length === 0) {
        out.push(`export ${name}; // declared outside this package`, '');
        continue;
      }
      const printedName = decls[0].name?.getText?.();
      out.push(`// export ${name}${printedName && printedName !== name ? ` (declared as ${printedName})` : ''}`);
      for (const d of decls) out.push(print(printable(d)));
      out.push('');
    }
    if (out[out.length - 1] === '') out.pop();
    out.push('```', '');
  }
  out.push('## Reachable from the exports but not exported', '', 'Users meet these through the types above but cannot name them.', '', '```ts');
  for (const d of reachable) out.push(`// ${where(d, dtsDir)}`, print(printable(d)), '');
  if (out[out.length - 1] === '') out.pop();
  out.push('```', '');
  return out.join('\n');
}

/** Build the report text from dist/'s declarations. */
function generate(dtsDir = distDir) {
  const collected = collectApi(dtsDir);
  return { text: render(collected), collected };
}

/** Every `.d.ts` file under `dir` whose text contains `@internal` (must be none with stripInternal). */
function filesMentioningInternal(dir) {
  const hits = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    if (fs.readFileSync(file, 'utf8').includes('@internal')) hits.push(path.relative(dir, file));
  }
  return hits;
}

function lineDiff(expected, actual) {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const lines = [];
  const max = Math.max(a.length, b.length);
  // Small and dependency-free: report the first differing region line by line.
  let i = 0;
  while (i < max && a[i] === b[i]) i++;
  let ea = a.length - 1;
  let eb = b.length - 1;
  while (ea >= i && eb >= i && a[ea] === b[eb]) {
    ea--;
    eb--;
  }
  lines.push(`@@ line ${i + 1} @@`);
  for (let k = i; k <= ea; k++) lines.push(`- ${a[k]}`);
  for (let k = i; k <= eb; k++) lines.push(`+ ${b[k]}`);
  return lines.join('\n');
}

module.exports = { generate, generateFresh, staleDist, distDir, collectApi, render, memberNames, filesMentioningInternal, lineDiff, reportFile };

if (require.main === module) {
  const stale = staleDist();
  if (stale) {
    console.error(stale);
    process.exit(1);
  }
  const { text, collected } = generate();
  if (collected.diagnostics.length > 0) {
    console.error(ts.formatDiagnostics(collected.diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
    process.exit(1);
  }
  const committed = fs.existsSync(reportFile) ? fs.readFileSync(reportFile, 'utf8') : '';
  if (process.argv.includes('--check')) {
    if (committed === text) process.exit(0);
    console.error(`${path.relative(root, reportFile)} is out of date; run \`npm run api:report\`, review and commit:\n${lineDiff(committed, text)}`);
    process.exit(1);
  }
  fs.mkdirSync(path.dirname(reportFile), { recursive: true });
  fs.writeFileSync(reportFile, text);
  console.log(committed === text ? 'API report unchanged.' : `API report written: ${path.relative(root, reportFile)} (review the diff, then commit)`);
}
