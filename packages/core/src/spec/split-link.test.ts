import { describe, expect, it } from 'vitest'
import { linkSpec, mayReassign, readPiece, type Piece } from './split-link.js'

const piece = (text: string, id = 0): Piece => {
  const p = readPiece(text, id)
  if (!p) throw new Error(`not a piece:\n${text}`)
  return p
}

/** The chunks of one build, each read once and named apart, as bundle.ts keeps them. */
function build(texts: Record<string, string>): (from: string) => Piece | undefined {
  const read = new Map<string, Piece>()
  return (from) => {
    const text = texts[from]
    if (text === undefined) return undefined
    if (!read.has(from)) read.set(from, piece(text, read.size + 1))
    return read.get(from)
  }
}

/** Runs a linked script as the evaluator does (its export clause turned into a return). */
function run(script: string): Record<string, unknown> {
  const clause = /\nexport\s*\{([^{}]*)\};?\s*$/.exec(script)
  if (!clause) throw new Error('no export clause')
  const fields = (clause[1] ?? '')
    .split(',')
    .filter((s) => s.trim())
    .map((s) => {
      const [local, name] = s.trim().split(/\s+as\s+/)
      return `${JSON.stringify(name ?? local)}: ${local}`
    })
  return new Function(`'use strict';\n${script.slice(0, clause.index)}\nreturn { ${fields.join(', ')} }`)() as Record<string, unknown>
}

describe('readPiece', () => {
  it('reads the imports on top, the body and the export clause as esbuild prints them', () => {
    const p = piece('import {\n  a,\n  b as c\n} from "./chunk-A.mjs";\nimport "./chunk-B.mjs";\n\n// x.ts\nvar d = a + c;\nexport {\n  d as default,\n  d\n};\n')
    expect(p.imports).toEqual([
      { from: './chunk-A.mjs', names: [{ imported: 'a', local: 'a' }, { imported: 'b', local: 'c' }] },
      { from: './chunk-B.mjs', names: [] },
    ])
    expect(p.body).toBe('\n// x.ts\nvar d = a + c;')
    expect([...p.exports]).toEqual([['default', 'd'], ['d', 'd']])
  })

  it('knows no other shape: an import left in the body, a namespace import, or a name of its own prefix', () => {
    expect(readPiece('var a = 1;\nimport { b } from "./chunk-A.mjs";\nexport { a };\n')).toBeUndefined()
    expect(readPiece('import * as ns from "./chunk-A.mjs";\nexport { ns };\n')).toBeUndefined()
    expect(readPiece('var __vidspec_chunk_0 = 1;\nexport { __vidspec_chunk_0 };\n')).toBeUndefined()
  })
})

describe('mayReassign', () => {
  it('says yes to every way a module may write to its binding after declaring it', () => {
    for (const body of [
      'var n = 0;\nn = 1;',
      'var n = 0;\nfunction f() { n += 2 }',
      'var n = 0;\nfunction f() { n++ }',
      'var n = 0;\nfunction f() { --n }',
      'var n = 0;\nfunction f(a) { [n] = a }',
      'var n = 0;\nfunction f(a) { ({ x: n } = a) }',
      'var n = 0;\nfunction f(a) { for (n of a) ; }',
      'var n = 0;\nvar n = 2;',
      'function n() {}\nn = 2;',
      'var n = 0;\nfunction f(s) { eval(s) }',
      'var n = 0;\nfunction f(a) { n ??= a }',
      'var n = [];\nfunction f(a) { [...n] = a }',
      'var n = {};\nfunction f(a) { ({ ...n } = a) }',
    ])
      expect(mayReassign(body, 'n'), body).toBe(true)
  })

  it('says no to reads, property writes, and names that only contain it', () => {
    for (const body of ['var n = { a: 1 };\nn.a = 2;\nvar m = n.a + n["a"] + m?.n;\nm.n = 3;', 'var n = 1;\nvar nn = 2;\nnn = 3;\nvar f = (n2) => n2 === n;', 'var n = (x) => x;\nvar k = n(1) == 2;', 'function n(a) { return a }'])
      expect(mayReassign(body, 'n'), body).toBe(false)
  })
})

describe('linkSpec', () => {
  const chunks: Record<string, string> = {
    './chunk-base.mjs': '// base.ts\nvar log = [];\nfunction note(s) {\n  log.push(s);\n  return log.length;\n}\nnote("base");\nexport {\n  log,\n  note\n};\n',
    './chunk-mid.mjs': 'import {\n  note\n} from "./chunk-base.mjs";\n\n// mid.ts\nvar mid = note("mid");\nexport {\n  mid as middle\n};\n',
  }
  const chunk = build(chunks)

  it("runs each chunk once, before what imports it, in ESM's order, and binds each import to what the chunk exported", () => {
    const entry = piece('import {\n  middle\n} from "./chunk-mid.mjs";\nimport {\n  log as seen\n} from "./chunk-base.mjs";\n\n// spec.ts\nvar spec_default = { middle, seen: seen.join(",") };\nexport {\n  spec_default as default\n};\n')
    const script = linkSpec(entry, chunk)
    expect(script).toBeDefined()
    expect(run(script as string).default).toEqual({ middle: 2, seen: 'base,mid' })
    // Each run is a fresh instance of every chunk: nothing one spec did is seen by the next.
    expect(run(script as string).default).toEqual({ middle: 2, seen: 'base,mid' })
  })

  it('links nothing whose chunk may change a binding it imports, or a chunk it cannot read', () => {
    const counting = { './chunk-c.mjs': '// c.ts\nvar count = 0;\nfunction bump() {\n  count++;\n}\nexport {\n  bump,\n  count\n};\n' }
    const read = build(counting)
    const reads = piece('import {\n  bump,\n  count\n} from "./chunk-c.mjs";\nbump();\nvar d = count;\nexport {\n  d as default\n};\n')
    expect(linkSpec(reads, read)).toBeUndefined()
    // Only the bindings a spec imports matter: `bump` alone is never reassigned.
    const calls = piece('import {\n  bump\n} from "./chunk-c.mjs";\nvar d = bump();\nexport {\n  d as default\n};\n')
    expect(linkSpec(calls, read)).toBeDefined()
    expect(linkSpec(piece('import {\n  x\n} from "./chunk-missing.mjs";\nexport {\n  x as default\n};\n'), read)).toBeUndefined()
    expect(linkSpec(piece('import {\n  nope\n} from "./chunk-c.mjs";\nexport {\n  nope as default\n};\n'), read)).toBeUndefined()
  })

  it('awaits a chunk that may await, and keeps an export named __proto__ a property', async () => {
    const own = {
      './chunk-a.mjs': '// a.ts\nvar v = await Promise.resolve(7);\nvar p = { odd: true };\nexport {\n  p as __proto__,\n  v\n};\n',
    }
    const entry = piece('import {\n  __proto__ as p,\n  v\n} from "./chunk-a.mjs";\nvar d = { v, odd: p.odd };\nexport {\n  d as default\n};\n')
    const script = linkSpec(entry, build(own)) as string
    const clause = /\nexport\s*\{([^{}]*)\};?\s*$/.exec(script) as RegExpExecArray
    const fn = new Function(`'use strict'; return (async () => {\n${script.slice(0, clause.index)}\nreturn d\n})()`) as () => Promise<unknown>
    expect(await fn()).toEqual({ v: 7, odd: true })
  })
})
