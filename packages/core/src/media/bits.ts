/** A big-endian bit reader over a codec's parameter set; reading past its end throws a RangeError. */
export class Bits {
  #at = 0
  readonly #bytes: Uint8Array

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
  }

  /** Bits not read yet. */
  get left(): number {
    return this.#bytes.length * 8 - this.#at
  }

  bit(): number {
    const byte = this.#bytes[this.#at >> 3]
    if (byte === undefined) throw new RangeError('the bits end early')
    const bit = (byte >> (7 - (this.#at & 7))) & 1
    this.#at++
    return bit
  }

  bits(n: number): number {
    let v = 0
    for (let i = 0; i < n; i++) v = v * 2 + this.bit()
    return v
  }

  /** Exp-Golomb, unsigned. */
  ue(): number {
    let zeros = 0
    while (this.bit() === 0) if (++zeros > 31) throw new RangeError('an impossible Exp-Golomb code')
    return 2 ** zeros - 1 + this.bits(zeros)
  }

  se(): number {
    const k = this.ue()
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2)
  }
}
