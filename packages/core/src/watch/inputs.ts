/**
 * Which specs each input feeds: a reverse index from files (imported modules, local media, the spec
 * itself) to the spec files made from them, so an input change re-evaluates exactly the specs it
 * feeds. Watch mode's SpecTracker and the dev server keep one each.
 */
export class InputIndex {
  /** spec file -> its inputs */
  readonly #inputs = new Map<string, string[]>()
  /** input -> the spec files it feeds */
  readonly #feeds = new Map<string, Set<string>>()

  /** Spec files indexed. */
  get files(): string[] {
    return [...this.#inputs.keys()]
  }

  has(file: string): boolean {
    return this.#inputs.has(file)
  }

  inputsOf(file: string): string[] | undefined {
    return this.#inputs.get(file)
  }

  /** Records what `file` is made of now (replacing what it was made of before). */
  set(file: string, inputs: string[]): void {
    for (const input of this.#inputs.get(file) ?? []) this.#feeds.get(input)?.delete(file)
    this.#inputs.set(file, inputs)
    for (const input of inputs) {
      let set = this.#feeds.get(input)
      if (!set) this.#feeds.set(input, (set = new Set()))
      set.add(file)
    }
  }

  delete(file: string): void {
    for (const input of this.#inputs.get(file) ?? []) {
      const set = this.#feeds.get(input)
      set?.delete(file)
      if (set?.size === 0) this.#feeds.delete(input)
    }
    this.#inputs.delete(file)
  }

  /** The indexed spec files that `paths` feed (a spec feeds itself). */
  fedBy(paths: Iterable<string>): Set<string> {
    const out = new Set<string>()
    for (const path of paths) {
      if (this.#inputs.has(path)) out.add(path)
      for (const spec of this.#feeds.get(path) ?? []) out.add(spec)
    }
    return out
  }
}
