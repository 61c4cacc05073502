import type { Entry, JournalRecord, UncertainCreate } from '../types.js'
import { isDigest, isExt, isKey } from './layout.js'
import type { SpecState } from './types.js'

// Records on disk outlive the code that wrote them and can be edited by hand: a record of the wrong
// shape is treated as absent, never trusted.

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const isStr = (v: unknown): v is string => typeof v === 'string'
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const optional = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v)
const isStringMap = (v: unknown): v is Record<string, string> => isObj(v) && Object.values(v).every(isStr)
const isRequest = (v: unknown): boolean => isObj(v) && isStr(v.model)

export function isEntry(v: unknown): v is Entry {
  return (
    isObj(v) &&
    v.version === 1 &&
    isKey(v.key) &&
    isDigest(v.digest) &&
    isExt(v.ext) &&
    Number.isSafeInteger(v.size) &&
    (v.size as number) >= 0 &&
    isStr(v.mime) &&
    isNum(v.width) &&
    isNum(v.height) &&
    isNum(v.duration) &&
    isNum(v.fps) &&
    isStr(v.codec) &&
    isStr(v.provider) &&
    typeof v.preview === 'boolean' &&
    isStr(v.model) &&
    optional(v.jobId, isStr) &&
    optional(v.cost, isNum) &&
    optional(v.seed, isNum) &&
    isStr(v.createdAt) &&
    isStr(v.spec) &&
    isRequest(v.request)
  )
}

export function isJournalRecord(v: unknown): v is JournalRecord {
  return (
    isObj(v) &&
    v.version === 1 &&
    isKey(v.key) &&
    isStr(v.provider) &&
    // An intent has no job id yet; a journal's job id is never empty.
    optional(v.jobId, (id) => isStr(id) && id.length > 0) &&
    isStr(v.spec) &&
    isStr(v.createdAt) &&
    optional(v.origin, (o) => isObj(o) && isStr(o.baseURL) && isStr(o.account))
  )
}

export function isUncertainCreate(v: unknown): v is UncertainCreate {
  return isObj(v) && v.version === 1 && isKey(v.key) && isStr(v.provider) && isStr(v.spec) && isStr(v.at) && isStr(v.reason)
}

export function isSpecState(v: unknown): v is SpecState {
  return (
    isObj(v) &&
    isStr(v.spec) &&
    isKey(v.key) &&
    isRequest(v.request) &&
    isStringMap(v.media) &&
    isStringMap(v.deps) &&
    isStr(v.builtAt)
  )
}
