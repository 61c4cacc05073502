/** A silent PCM WAV of `seconds` at 8 kHz mono 8-bit (8,000 bytes a second): real audio ffprobe reads. */
export function silentWav(seconds: number): Buffer {
  const data = Math.round(seconds * 8000)
  const h = Buffer.alloc(44 + data, 0x80)
  h.write('RIFF', 0)
  h.writeUInt32LE(36 + data, 4)
  h.write('WAVEfmt ', 8)
  h.writeUInt32LE(16, 16)
  h.writeUInt16LE(1, 20)
  h.writeUInt16LE(1, 22)
  h.writeUInt32LE(8000, 24)
  h.writeUInt32LE(8000, 28)
  h.writeUInt16LE(1, 32)
  h.writeUInt16LE(8, 34)
  h.write('data', 36)
  h.writeUInt32LE(data, 40)
  return h
}
