/**
 * KCSAN's compile-time instrumentation of a module's own source (as the compiler instruments a
 * kernel built with CONFIG_KCSAN): every element access `a[i]` whose rewriting cannot change what
 * the code means becomes a call of debug/kcsan.ts, which checks it when `a` is an instrumented
 * shared array and is exactly the plain access otherwise:
 *   a[i]            (read)  -> __kcsan_r(a, i)
 *   a[i] = v                -> __kcsan_w(a, i, v)
 *   a[i]++, --a[i]          -> __kcsan_inc(a, i, ±1, post)
 *   a[i] op= v              -> __kcsan_rmw(a, i, op, v)          when evaluating v has no effects
 *                           -> __kcsan_w(a, i, __kcsan_r(a, i) op (v))  when a and i have none
 * Left as they are (plain accesses): callees (`a[i](...)` keeps its `this`), `delete a[i]`,
 * optional chains, `super[i]`, destructuring and for-in/of targets, logical assignments, an
 * access under a type assertion or `!` in a write, and any compound assignment neither rule takes.
 *
 * The rewrite is textual, on the original text: every replacement keeps the lines it spans, and
 * the helpers' import goes after the last line, so a call trace names the module's own lines.
 */
import ts from 'typescript';
import { RMW_OPS } from './kcsan.ts';

const K = ts.SyntaxKind;

const COMPOUND: Partial<Record<ts.SyntaxKind, number>> = {
  [K.PlusEqualsToken]: 0, [K.MinusEqualsToken]: 1, [K.AsteriskEqualsToken]: 2, [K.SlashEqualsToken]: 3,
  [K.PercentEqualsToken]: 4, [K.AsteriskAsteriskEqualsToken]: 5, [K.LessThanLessThanEqualsToken]: 6,
  [K.GreaterThanGreaterThanEqualsToken]: 7, [K.GreaterThanGreaterThanGreaterThanEqualsToken]: 8,
  [K.AmpersandEqualsToken]: 9, [K.BarEqualsToken]: 10, [K.CaretEqualsToken]: 11,
};

const SCRIPT_KIND: Record<string, ts.ScriptKind> = {
  '.ts': ts.ScriptKind.TS, '.mts': ts.ScriptKind.TS, '.cts': ts.ScriptKind.TS, '.tsx': ts.ScriptKind.TSX,
  '.js': ts.ScriptKind.JS, '.mjs': ts.ScriptKind.JS, '.jsx': ts.ScriptKind.JSX,
};

/** An expression whose evaluation has no effects and yields the same value twice in a row. */
function pure(e: ts.Expression): boolean {
  if (ts.isParenthesizedExpression(e)) return pure(e.expression);
  if (ts.isIdentifier(e)) return e.text !== 'arguments';
  if (e.kind === K.ThisKeyword || ts.isNumericLiteral(e) || ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return true;
  if (e.kind === K.TrueKeyword || e.kind === K.FalseKeyword || e.kind === K.NullKeyword) return true;
  if (ts.isPrefixUnaryExpression(e)) return e.operator === K.MinusToken && ts.isNumericLiteral(e.operand);
  return false;
}

/** `e` climbed through parentheses, type assertions and `!`: the node whose parent uses e's value. */
function outer(e: ts.Node): ts.Node {
  let c = e;
  while (ts.isParenthesizedExpression(c.parent) || ts.isAsExpression(c.parent) || ts.isNonNullExpression(c.parent)
    || ts.isTypeAssertionExpression(c.parent) || ts.isSatisfiesExpression(c.parent)) c = c.parent;
  return c;
}

function is_assign(p: ts.Node, c: ts.Node): p is ts.BinaryExpression {
  return ts.isBinaryExpression(p) && p.left === c && p.operatorToken.kind >= K.FirstAssignment && p.operatorToken.kind <= K.LastAssignment;
}

/** Is `x` written by a destructuring assignment or as a for-in/of variable (a pattern's element, a default's target)? */
function destructured(x: ts.Node): boolean {
  let c = x;
  while (ts.isParenthesizedExpression(c.parent)) c = c.parent;
  const p = c.parent;
  if (ts.isForInStatement(p) || ts.isForOfStatement(p)) return p.initializer === c;
  if (ts.isBinaryExpression(p) && p.operatorToken.kind === K.EqualsToken && p.left === c) {
    return ts.isArrayLiteralExpression(c) || ts.isObjectLiteralExpression(c) || element_of_pattern(p);
  }
  return element_of_pattern(c);
}

function element_of_pattern(c: ts.Node): boolean {
  const p = c.parent;
  if (ts.isArrayLiteralExpression(p)) return destructured(p);
  if (ts.isSpreadElement(p)) return ts.isArrayLiteralExpression(p.parent) && destructured(p.parent);
  if (ts.isPropertyAssignment(p)) return p.initializer === c && destructured(p.parent);
  if (ts.isSpreadAssignment(p)) return destructured(p.parent);
  return false;
}

/** The source `text` of file `path` with its element accesses instrumented, or null if it has none to instrument. */
export function kcsan_instrument(path: string, text: string, helpers: string): string | null {
  const ext = /\.[^./\\]+$/.exec(path)?.[0] ?? '';
  const kind = SCRIPT_KIND[ext];
  if (kind === undefined) return null;
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind);
  let edits = 0;

  /** The text of `n` with its children rewritten. */
  const emit = (n: ts.Node): string => {
    const r = rewrite(n);
    return r ?? splice(n);
  };
  const splice = (n: ts.Node): string => {
    let out = '';
    let pos = n.getStart(sf);
    n.forEachChild((c) => {
      const s = c.getStart(sf);
      if (s < pos) return; // (a JSDoc or a node the parser placed before its parent's start)
      out += text.slice(pos, s) + emit(c);
      pos = c.end;
    });
    return out + text.slice(pos, n.end);
  };
  /** `e`'s own text, when it may be written twice: on one line, so no line moves. */
  const twice = (e: ts.Expression): string | null => {
    const s = text.slice(e.getStart(sf), e.end);
    return pure(e) && !s.includes('\n') ? s : null;
  };

  /** The line breaks in text[from, to): what a replacement keeps of the text it drops there. */
  const breaks = (from: number, to: number): string => text.slice(from, to).replace(/[^\n]/g, '');
  /** `fn(...)` over `parts` of `n` (its subexpressions, in source order, or literal text), keeping n's lines. */
  const call = (n: ts.Node, fn: string, parts: (ts.Node | string)[]): string => {
    edits++;
    let pos = n.getStart(sf);
    const args = parts.map((p) => {
      if (typeof p === 'string') return p;
      const s = breaks(pos, p.getStart(sf)) + emit(p);
      pos = p.end;
      return s;
    });
    return `${fn}(${args.join(', ')}${breaks(pos, n.end)})`;
  };

  const rewrite = (n: ts.Node): string | null => {
    if (ts.isBinaryExpression(n) && ts.isElementAccessExpression(n.left) && plain(n.left) && !destructured(n.left)) {
      const e = n.left;
      const op = n.operatorToken.kind;
      if (op === K.EqualsToken) return call(n, '__kcsan_w', [e.expression, e.argumentExpression, n.right]);
      const code = COMPOUND[op];
      if (code === undefined) return null; // &&=, ||=, ??=: the write is conditional
      if (pure(n.right)) return call(n, '__kcsan_rmw', [e.expression, e.argumentExpression, String(code), n.right]);
      const a = twice(e.expression);
      const i = twice(e.argumentExpression);
      if (a === null || i === null) return null;
      edits++;
      const r = n.right;
      return `__kcsan_w(${a}, ${i}, __kcsan_r(${a}, ${i}) ${RMW_OPS[code]}${breaks(n.getStart(sf), r.getStart(sf))} (${emit(r)})${breaks(r.end, n.end)})`;
    }
    if ((ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) && (n.operator === K.PlusPlusToken || n.operator === K.MinusMinusToken)
      && ts.isElementAccessExpression(n.operand) && plain(n.operand)) {
      const e = n.operand;
      return call(n, '__kcsan_inc', [e.expression, e.argumentExpression, n.operator === K.PlusPlusToken ? '1' : '-1', String(ts.isPostfixUnaryExpression(n))]);
    }
    if (ts.isElementAccessExpression(n) && plain(n) && read(n)) return call(n, '__kcsan_r', [n.expression, n.argumentExpression]);
    return null;
  };

  /** An access that is no optional chain and not of super. */
  const plain = (e: ts.ElementAccessExpression): boolean =>
    !ts.isOptionalChain(e) && e.expression.kind !== K.SuperKeyword && !ts.isOptionalChain(e.expression);

  /** Is `e` used only for its value (not called, deleted, written, or a pattern's target)? */
  const read = (e: ts.ElementAccessExpression): boolean => {
    const c = outer(e);
    const p = c.parent;
    if ((ts.isCallExpression(p) || ts.isNewExpression(p)) && p.expression === c) return false;
    if (ts.isTaggedTemplateExpression(p) && p.tag === c) return false;
    if (ts.isDeleteExpression(p) || is_assign(p, c)) return false;
    if ((ts.isPrefixUnaryExpression(p) || ts.isPostfixUnaryExpression(p)) && (p.operator === K.PlusPlusToken || p.operator === K.MinusMinusToken)) return false;
    return !destructured(c);
  };

  const body = splice(sf);
  if (edits === 0) return null;
  return `${text.slice(0, sf.getStart(sf))}${body}\n;import { kcsan_r as __kcsan_r, kcsan_w as __kcsan_w, kcsan_inc as __kcsan_inc, kcsan_rmw as __kcsan_rmw } from ${JSON.stringify(helpers)};\n`;
}
