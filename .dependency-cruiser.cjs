/**
 * The floors of packages/core/src (docs/ARCHITECTURE.md, "Floors"), checked by `pnpm depcheck`,
 * which `pnpm test` runs before the suite. A file may import files of its own floor and of the
 * floors below, never above; no import cycles anywhere in packages/; the kernel imports none of
 * its clients. A new folder of packages/core/src must be given a floor here.
 */
const CORE = 'packages/core/src';

/** Bottom first. Each entry is a floor: the folders (or root files) that stand on it, and its rule. */
const FLOORS = [
  { name: 'arch', at: ['arch/'], rule: 'raw lock, clock, hash, call traces, BUG errors, errno: imports nothing of the kernel' },
  { name: 'memory', at: ['memory/', 'module/'], rule: 'the memory map and its views; kernel text (loaded modules, public import paths)' },
  { name: 'printk', at: ['printk/'], rule: 'the log: knows the CPU and its running thread only through printk_attach, never by importing sched/' },
  { name: 'sched', at: ['sched/'], rule: 'run queues, wakeups, sleep queues, timers, schedule(), current' },
  { name: 'debug', at: ['debug/'], rule: "KCSAN and a dead CPU's last words: they watch through sched/ and stand under shared/, which instruments with KCSAN" },
  { name: 'shared', at: ['shared/'], rule: 'declarations by name, moving data to another CPU' },
  { name: 'services', at: ['sync/', 'kthread/', 'proc/'], rule: 'locks and waits with their own debug half (lockdep, spinlock debug), the thread life cycle, /proc files' },
  { name: 'contract', at: ['contract/'], rule: 'the core contract: everything a personality may call, re-exported from the floors below' },
  { name: 'personalities', at: ['personalities/', 'kernel.ts'], rule: "the kernels' APIs: thin mappings onto the contract" },
  { name: 'machine', at: ['machine/', 'index.ts'], rule: 'the coordinator; @kmodel/core for programs' },
];

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const at = (entries) => `^${esc(CORE)}/(${entries.map(esc).join('|')})`;
const placed = at(FLOORS.flatMap((f) => f.at));

/** What the kernel must not import: the programs and packages built on it. */
const CLIENTS = '^(packages/(cli|torture|cpu-worker)/|bench/|test/)';

const floorRules = FLOORS.slice(0, -1).map((floor, i) => ({
  name: `floor-${floor.name}`,
  severity: 'error',
  comment:
    `${floor.at.join(', ')} stands on floor ${i + 1} (${floor.rule}) and may import only ` +
    `${FLOORS.slice(0, i + 1).flatMap((f) => f.at).join(', ')}. Move the low-level piece down, ` +
    `or have the floor above install a hook.`,
  from: { path: at(floor.at) },
  to: { path: at(FLOORS.slice(i + 1).flatMap((f) => f.at)) },
}));

module.exports = {
  forbidden: [
    ...floorRules,
    {
      name: 'personality-through-contract',
      severity: 'error',
      comment:
        `A personality calls the core only through ${CORE}/contract/ (and other personalities' public API): ` +
        'what it needs that the contract lacks belongs in the core, behind a name in the contract.',
      from: { path: at(['personalities/']) },
      to: { path: `^${esc(CORE)}/`, pathNot: at(['personalities/', 'contract/']) },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Files of packages/ import each other in a loop: the lower one must not know the higher one.',
      from: { path: '^packages/' },
      to: { circular: true },
    },
    {
      name: 'core-without-floor',
      severity: 'error',
      comment: `A file of ${CORE} outside every floor: give its folder a floor in .dependency-cruiser.cjs (FLOORS).`,
      from: { path: `^${esc(CORE)}/`, pathNot: [placed, '\\.d\\.ts$'] },
      to: {},
    },
    {
      name: 'core-without-floor-imported',
      severity: 'error',
      comment: `An import of a file of ${CORE} outside every floor: give its folder a floor in .dependency-cruiser.cjs (FLOORS).`,
      from: {},
      to: { path: `^${esc(CORE)}/`, pathNot: [placed, '\\.d\\.ts$'] },
    },
    {
      name: 'core-imports-its-clients',
      severity: 'error',
      comment:
        'The kernel imports none of its clients: the CLI, locktorture, the CPU worker (which imports the kernel), ' +
        'the benchmarks or the tests.',
      from: { path: '^packages/core/' },
      to: { path: CLIENTS },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['node_modules', '\\.kernel-image'] },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
      extensions: ['.ts', '.mjs', '.js'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
