import { describe, expect, it } from 'vitest'
import { untestedViteWarning, viteMajor } from './vite-version.js'

describe('viteMajor', () => {
  it('reads Vite 7+ from the plugin context', () => {
    expect(viteMajor({ viteVersion: '8.3.8' }, {})).toBe(8)
    expect(viteMajor({ viteVersion: '7.0.0-beta.1' }, { environments: {} })).toBe(7)
  })
  it('knows Vite 6 by its environments and Vite 5 by their absence', () => {
    expect(viteMajor(undefined, { environments: {} })).toBe(6)
    expect(viteMajor({}, {})).toBe(5)
  })
})

describe('untestedViteWarning', () => {
  it('is silent for the tested majors', () => {
    for (const major of [6, 7, 8]) expect(untestedViteWarning(major)).toBeUndefined()
  })
  it('names the version and the tested range for a newer major', () => {
    const w = untestedViteWarning(9)
    expect(w).toContain('Vite 9')
    expect(w).toContain('6, 7, 8')
  })
  it('says an older major will not work', () => {
    expect(untestedViteWarning(5)).toMatch(/needs Vite 6 or newer.*this is Vite 5/)
  })
})
