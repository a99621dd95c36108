/**
 * The deepest nesting of arrays and objects in a JSON text, in one linear pass. Bodies
 * are bounded by it before anything walks them recursively (span finding, merge patches),
 * so a small but deeply nested body is a 400, not a stack overflow.
 */
export const MAX_JSON_DEPTH = 128

export function jsonDepth(text: string): number {
  let depth = 0
  let deepest = 0
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index)
    if (code === 0x22) {
      // Skip the string, escapes included.
      index++
      while (index < text.length) {
        const inner = text.charCodeAt(index)
        if (inner === 0x5c) index += 2
        else if (inner === 0x22) break
        else index++
      }
    } else if (code === 0x5b || code === 0x7b) {
      depth++
      if (depth > deepest) deepest = depth
    } else if (code === 0x5d || code === 0x7d) depth--
  }
  return deepest
}
