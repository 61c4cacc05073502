/*
 * Many specs are bundled in one esbuild build. Without code splitting esbuild prints every shared
 * module (the brand file every spec imports, `defineVideo`, its runtime helpers) once per spec,
 * and that printing is half its CPU in a cold plan (1,000 specs in builds of 100: ~750 against
 * ~400 ms of esbuild's CPU with splitting). With splitting it prints each once, in chunks the
 * specs import. A spec must still evaluate as its own bundle would: every module run afresh for
 * it, nothing shared with the spec evaluated before it in the same worker. So each spec's output
 * is linked back into one script here: each chunk it needs, in ESM's order, as a function run once
 * for this spec that returns the chunk's exports, then the spec's own code.
 *
 * ESM's imports are live bindings, this script's are the values a chunk's exports hold when it has
 * run. Those agree while nothing assigns to an exported binding afterwards (a function the spec
 * calls that counts, say). `linkSpec` answers undefined for such a chunk, and for any output not
 * in the shape esbuild prints (imports on top, one export clause at the end), or that imports
 * anything but a chunk of the same build: the spec is then bundled on its own, as before.
 */

/** One output file of a split build, in the parts linking needs. */
export interface Piece {
  /** The static imports on top: which chunk (as written, `./chunk-X.mjs`), which names as which local. */
  imports: Array<{ from: string; names: Array<{ imported: string; local: string }> }>
  /** The code between the imports and the export clause. */
  body: string
  /** Exported name → the local binding it exports. */
  exports: Map<string, string>
  /** The export clause as printed (kept on a spec's own output: the evaluator reads it). */
  clause: string
  /** The name a script binds this chunk's exports to: its own within the build (`readPiece`). */
  name: string
  /** `mayReassign` of the body, by local name, as asked: a chunk is shared by a whole batch. */
  reassigned: Map<string, boolean>
  /** This chunk as a script's part, once written (the same in every spec's script). */
  part?: string
}

const IDENT = '[A-Za-z_$][\\w$]*'
/** `import {\n  a,\n  b as c\n} from "./chunk-X.mjs";` or `import "./chunk-X.mjs";`, as esbuild prints them. */
const IMPORT = /import\s*(?:\{([^{}]*)\}\s*from\s*)?"(\.\/[^"\\]+)";\n/y
const NAME = new RegExp(`^\\s*(${IDENT})(?:\\s+as\\s+(${IDENT}))?\\s*$`)
const EXPORT_CLAUSE = /(?:^|\n)export\s*\{([^{}]*)\};?\s*$/
/** A static import or export left in the body: a shape this does not know. */
const STATEMENT = /^(?:import|export)\b/m
/** The names this linker declares; code that mentions them is left alone. */
const CHUNK_PREFIX = '__vidspec_chunk_'

function names(list: string): Array<{ name: string; alias: string }> | undefined {
  const out: Array<{ name: string; alias: string }> = []
  for (const item of list.split(',')) {
    if (item.trim() === '') continue
    const m = NAME.exec(item)
    if (!m?.[1]) return undefined
    out.push({ name: m[1], alias: m[2] ?? m[1] })
  }
  return out
}

/**
 * An output's text in parts, or undefined when it is not in the shape esbuild prints for a split
 * build. `id` tells the outputs of one build apart (the name of its exports in a script).
 */
export function readPiece(text: string, id = 0): Piece | undefined {
  const imports: Piece['imports'] = []
  IMPORT.lastIndex = 0
  let at = 0
  for (let m = IMPORT.exec(text); m; m = IMPORT.exec(text)) {
    const listed = m[1] === undefined ? [] : names(m[1])
    if (!listed || !m[2]) return undefined
    imports.push({ from: m[2], names: listed.map(({ name, alias }) => ({ imported: name, local: alias })) })
    at = IMPORT.lastIndex
  }
  const rest = text.slice(at)
  const clause = EXPORT_CLAUSE.exec(rest)
  const exported = clause ? names(clause[1] ?? '') : []
  if (!exported) return undefined
  const body = clause ? rest.slice(0, clause.index) : rest
  if (STATEMENT.test(body) || body.includes(CHUNK_PREFIX)) return undefined
  return { imports, body, exports: new Map(exported.map(({ name, alias }) => [alias, name])), clause: clause ? rest.slice(clause.index) : '', name: `${CHUNK_PREFIX}${id}`, reassigned: new Map() }
}

const escape = (name: string) => name.replace(/\$/g, '\\$')

/**
 * Whether `body` may assign to the top-level binding `name` after declaring it: an assignment, an
 * increment, a place a destructuring assignment or a for-in/of loop could write to, a second
 * declaration, or a direct `eval`. Errs towards yes (a property named so, a string): a yes only
 * costs the spec its own bundle.
 */
export function mayReassign(body: string, name: string): boolean {
  if (/\beval\s*\(/.test(body)) return true
  const use = new RegExp(`(?<![\\w$])${escape(name)}(?![\\w$])`, 'g')
  let declarations = 0
  for (let m = use.exec(body); m; m = use.exec(body)) {
    const before = body.slice(Math.max(0, m.index - 16), m.index)
    // A property (`a.name`, `a?.name`), not the binding; a rest element (`[...name] = a`) is.
    if (before.endsWith('.') && !before.endsWith('...')) continue
    const after = body.slice(m.index + name.length, m.index + name.length + 8)
    if (/(?:\b(?:var|let|const|function\*?|class)\s+|\bfunction\s*\*\s*)$/.test(before)) {
      if (++declarations > 1) return true
      continue
    }
    if (/(?:\+\+|--)\s*$/.test(before)) return true
    if (/^\s*(?:(?:[-+*/%&|^]|\*\*|<<|>>>?|&&|\|\||\?\?)?=(?![=>])|\+\+|--|[,}\]]|(?:of|in)\b)/.test(after)) return true
  }
  return false
}

/**
 * A spec's output linked with the chunks it imports into one script (see the note at the top), or
 * undefined when it cannot be. `chunk` gives the piece an import names (`./chunk-X.mjs`).
 */
export function linkSpec(entry: Piece, chunk: (from: string) => Piece | undefined): string | undefined {
  const order: Piece[] = []
  const pieces = new Map<string, Piece>()
  // Depth first, in the order of the imports: the order ESM evaluates them. Chunks never import a
  // spec's output, and never each other in a cycle (a chunk imports only chunks shared more widely).
  const visit = (piece: Piece, stack: Set<string>): boolean => {
    for (const { from, names: wanted } of piece.imports) {
      if (stack.has(from)) return false
      let got = pieces.get(from)
      if (!got) {
        got = chunk(from)
        if (!got) return false
        pieces.set(from, got)
        if (!visit(got, new Set([...stack, from]))) return false
        order.push(got)
      }
      for (const { imported } of wanted) {
        const local = got.exports.get(imported)
        if (local === undefined) return false
        let reassigned = got.reassigned.get(local)
        if (reassigned === undefined) got.reassigned.set(local, (reassigned = mayReassign(got.body, local)))
        if (reassigned) return false
      }
    }
    return true
  }
  if (!visit(entry, new Set())) return undefined
  const bindings = (piece: Piece) =>
    piece.imports
      .filter((im) => im.names.length > 0)
      .map((im) => `const { ${im.names.map((n) => `${JSON.stringify(n.imported)}: ${n.local}`).join(', ')} } = ${(pieces.get(im.from) as Piece).name};\n`)
      .join('')
  const part = (piece: Piece) => {
    // Keys quoted and computed: an export named `__proto__` stays a property.
    const result = `return { ${[...piece.exports].map(([name, local]) => `[${JSON.stringify(name)}]: ${local}`).join(', ')} };`
    // Only a chunk that may await runs as an async function: a synchronous module finishes in the
    // same turn, and so does this.
    const run = piece.body.includes('await') ? ['await (async () => {', '})()'] : ['(() => {', '})()']
    return `const ${piece.name} = ${run[0]}\n${bindings(piece)}${piece.body}\n${result}\n${run[1]};\n`
  }
  return `${order.map((piece) => (piece.part ??= part(piece))).join('')}${bindings(entry)}${entry.body}${entry.clause}`
}
